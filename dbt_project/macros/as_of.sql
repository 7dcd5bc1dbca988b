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
