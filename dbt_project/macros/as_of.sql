{# The as-of date of the build, resolved once per run by the orchestration (the day given
   with --as-of, otherwise the day of the latest event in raw) and passed as the var
   `as_of_date`. Every event at or after the end of that day is ignored, so a run
   reproduces the warehouse as it was then. #}
{% macro as_of_date() -%}
    {%- if execute and not var('as_of_date', '') -%}
        {{ exceptions.raise_compiler_error(
            "No as-of date: run through `c360 run` (or Dagster), or pass "
            ~ "--vars '{as_of_date: YYYY-MM-DD}' to dbt") }}
    {%- endif -%}
    cast('{{ var("as_of_date", "") }}' as date)
{%- endmacro %}

{% macro as_of_end() -%}
    cast({{ as_of_date() }} + interval 1 day as timestamp)
{%- endmacro %}

{% macro before_as_of(column) -%}
    {{ column }} < {{ as_of_end() }}
{%- endmacro %}

{# A row is visible as of the run when none of its event or version times is after the
   as-of instant: a correction delivered later (newer updated_at) is not seen either. #}
{% macro visible_as_of(columns) -%}
    {%- for column in columns %}({{ column }} is null or {{ before_as_of(column) }}){% if not loop.last %} and {% endif %}{% endfor -%}
{%- endmacro %}

{# One row with the run's as-of date and instant, for models that join it as a CTE. #}
{% macro as_of_row() -%}
    select {{ as_of_date() }} as as_of_date, {{ as_of_end() }} as as_of_end
{%- endmacro %}
