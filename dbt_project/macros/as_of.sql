{# The as-of date of the build, resolved once per run by the orchestration (the day given
   with --as-of, otherwise the day of the latest event in raw). Every event at or after the
   end of that day is ignored, so a run reproduces the warehouse as it was then.

   The orchestrated DuckDB build reads it from the warehouse (ops.build_as_of, one row the
   run writes before dbt starts) when the models run, not from a var: a var that changes
   every day would make dbt parse the whole project again on every run. A var
   `as_of_date` (Spark, the tests) takes precedence; dbt run by hand without one builds
   as of the date of the warehouse's last orchestrated build. #}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of_date', '') -%}
    {%- if execute and not as_of -%}
        {%- set written = run_query(build_as_of_query()) -%}
        {%- if written is none or written.rows | length != 1 or not written.rows[0][0] -%}
            {{ exceptions.raise_compiler_error(
                "No as-of date: run through `c360 run` (or Dagster), or pass "
                ~ "--vars '{as_of_date: YYYY-MM-DD}' to dbt") }}
        {%- endif -%}
        {%- set as_of = written.rows[0][0] -%}
    {%- endif -%}
    cast('{{ as_of }}' as date)
{%- endmacro %}

{# The date the run wrote, as text; no row when it wrote none. #}
{% macro build_as_of_query() -%}
    select cast(as_of_date as varchar) as as_of_date from ops.build_as_of
{%- endmacro %}

{# on-run-start: the table exists, so a build without a written date fails with the
   message above, not a catalog error. On Spark the date is always a var. #}
{% macro create_build_as_of() %}
    {{ return(adapter.dispatch('create_build_as_of')()) }}
{% endmacro %}

{% macro default__create_build_as_of() %}
    {% do run_query('create schema if not exists ops') %}
    {% do run_query('create table if not exists ops.build_as_of (as_of_date date)') %}
{% endmacro %}

{% macro spark__create_build_as_of() %}{% endmacro %}

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
