{# The as-of instant: every event at or after it is ignored, so a run reproduces the
   warehouse as it was at the end of the as-of day. See stg_run__as_of. #}
{% macro as_of_end() -%}
    (select as_of_end from {{ ref('stg_run__as_of') }})
{%- endmacro %}

{% macro as_of_date() -%}
    (select as_of_date from {{ ref('stg_run__as_of') }})
{%- endmacro %}

{% macro before_as_of(column) -%}
    {{ column }} < {{ as_of_end() }}
{%- endmacro %}

{# A row is visible as of the run when none of its event or version times is after the
   as-of instant: a correction delivered later (newer updated_at) is not seen either. #}
{% macro visible_as_of(columns) -%}
    {%- for column in columns %}({{ column }} is null or {{ before_as_of(column) }}){% if not loop.last %} and {% endif %}{% endfor -%}
{%- endmacro %}
