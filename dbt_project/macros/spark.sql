{# What differs on Apache Spark (dbt-spark), kept to macros so the models stay one code
   base: each has a default__ (DuckDB) and a spark__ version. #}

{# Every column but some: DuckDB says `* exclude (...)`, Spark `* except (...)`. #}
{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except')(columns)) }}
{%- endmacro %}

{% macro default__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{# The whole text matches the pattern. #}
{% macro regexp_full_match(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match')(text, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(text, pattern) -%}
    regexp_full_match({{ text }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_full_match(text, pattern) -%}
    ({{ text }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}

{# Whitespace and invisible format characters (Unicode separators Z, format Cf) removed. #}
{% macro strip_invisible(text) -%}
    {{ return(adapter.dispatch('strip_invisible')(text)) }}
{%- endmacro %}

{% macro default__strip_invisible(text) -%}
    regexp_replace({{ text }}, '[\s\p{Z}\p{Cf}]', '', 'g')
{%- endmacro %}

{% macro spark__strip_invisible(text) -%}
    regexp_replace({{ text }}, '[\s\p{Z}\p{Cf}]', '')
{%- endmacro %}

{# On Spark the raw sources are the Parquet datasets ingestion writes beside the DuckDB
   warehouse (ingestion/parquet_export.py, var spark_raw_dir): registered as external
   tables, partitioned by load, and re-listed so a new load is seen. On DuckDB the raw
   schema is the warehouse's own: nothing to do. #}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
    select 1
{%- endmacro %}

{% macro spark__register_raw_sources() -%}
    {%- set raw_dir = var('spark_raw_dir', '') -%}
    {%- if execute and not raw_dir -%}
        {{ exceptions.raise_compiler_error("No var spark_raw_dir: run the Spark engine through `c360 run --engine spark`") }}
    {%- endif -%}
    {%- if execute -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for source in graph.sources.values() if source.schema == 'raw' -%}
            {%- set table = 'raw.' ~ source.identifier -%}
            {%- do run_query('create table if not exists ' ~ table ~ " using parquet location '" ~ raw_dir ~ '/' ~ source.identifier ~ "'") -%}
            {%- do run_query('msck repair table ' ~ table) -%}
            {%- do run_query('refresh table ' ~ table) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{# One row per value from start to stop, both included, each cast to `type` when given
   (a select-list expression: Spark allows no generator inside another expression). #}
{% macro series(start, stop, step='1', type=none) -%}
    {{ return(adapter.dispatch('series')(start, stop, step, type)) }}
{%- endmacro %}

{% macro default__series(start, stop, step, type) -%}
    {%- if type -%}
    cast(unnest(generate_series({{ start }}, {{ stop }}, {{ step }})) as {{ type }})
    {%- else -%}
    unnest(generate_series({{ start }}, {{ stop }}, {{ step }}))
    {%- endif -%}
{%- endmacro %}

{% macro spark__series(start, stop, step, type) -%}
    {%- if type -%}
    explode(transform(sequence({{ start }}, {{ stop }}, {{ step }}), value -> cast(value as {{ type }})))
    {%- else -%}
    explode(sequence({{ start }}, {{ stop }}, {{ step }}))
    {%- endif -%}
{%- endmacro %}

{# The value on the row with the smallest / largest key (DuckDB arg_min / arg_max, Spark
   min_by / max_by). A key of several columns is a sort_key(...). #}
{% macro min_by(value, key) -%}
    {{ return(adapter.dispatch('min_by')(value, key)) }}
{%- endmacro %}

{% macro default__min_by(value, key) -%}
    arg_min({{ value }}, {{ key }})
{%- endmacro %}

{% macro spark__min_by(value, key) -%}
    min_by({{ value }}, {{ key }})
{%- endmacro %}

{% macro max_by(value, key) -%}
    {{ return(adapter.dispatch('max_by')(value, key)) }}
{%- endmacro %}

{% macro default__max_by(value, key) -%}
    arg_max({{ value }}, {{ key }})
{%- endmacro %}

{% macro spark__max_by(value, key) -%}
    max_by({{ value }}, {{ key }})
{%- endmacro %}

{# Several columns compared in order, first one first: a struct on both engines. #}
{% macro sort_key(columns) -%}
    {{ return(adapter.dispatch('sort_key')(columns)) }}
{%- endmacro %}

{% macro default__sort_key(columns) -%}
    struct_pack({% for column in columns %}k{{ loop.index }} := {{ column }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro spark__sort_key(columns) -%}
    struct({{ columns | join(', ') }})
{%- endmacro %}

{# The continuous (interpolated) quantile. #}
{% macro quantile_cont(column, fraction) -%}
    {{ return(adapter.dispatch('quantile_cont')(column, fraction)) }}
{%- endmacro %}

{% macro default__quantile_cont(column, fraction) -%}
    quantile_cont({{ column }}, {{ fraction }})
{%- endmacro %}

{% macro spark__quantile_cont(column, fraction) -%}
    percentile({{ column }}, {{ fraction }})
{%- endmacro %}

{# A date or timestamp as text, in strftime's format (%Y %m %d %H %M %S). #}
{% macro format_time(column, format) -%}
    {{ return(adapter.dispatch('format_time')(column, format)) }}
{%- endmacro %}

{% macro default__format_time(column, format) -%}
    strftime({{ column }}, '{{ format }}')
{%- endmacro %}

{% macro spark__format_time(column, format) -%}
    {%- set java = format | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd') | replace('%H', 'HH') | replace('%M', 'mm') | replace('%S', 'ss') -%}
    date_format({{ column }}, '{{ java }}')
{%- endmacro %}

{# The items that are not null, in the order given, as a list (DuckDB) or array (Spark). #}
{% macro non_null_list(items) -%}
    {{ return(adapter.dispatch('non_null_list')(items)) }}
{%- endmacro %}

{% macro default__non_null_list(items) -%}
    list_filter([{{ items | join(', ') }}], item -> item is not null)
{%- endmacro %}

{% macro spark__non_null_list(items) -%}
    filter(array({{ items | join(', ') }}), item -> item is not null)
{%- endmacro %}

{# The last non-null value in a window frame (followed by `over ...`). #}
{% macro last_non_null(column) -%}
    {{ return(adapter.dispatch('last_non_null')(column)) }}
{%- endmacro %}

{% macro default__last_non_null(column) -%}
    last_value({{ column }} ignore nulls)
{%- endmacro %}

{% macro spark__last_non_null(column) -%}
    last_value({{ column }}, true)
{%- endmacro %}

{# Minute boundaries crossed from start to end, as DuckDB's date_diff counts them
   (dbt-spark's datediff counts whole minutes elapsed instead: 10:00:59 to 10:01:00 is
   one boundary but no whole minute). #}
{% macro minutes_crossed(start, end) -%}
    {{ return(adapter.dispatch('minutes_crossed')(start, end)) }}
{%- endmacro %}

{% macro default__minutes_crossed(start, end) -%}
    {{ dbt.datediff(start, end, 'minute') }}
{%- endmacro %}

{% macro spark__minutes_crossed(start, end) -%}
    cast((unix_timestamp(date_trunc('minute', {{ end }})) - unix_timestamp(date_trunc('minute', {{ start }}))) / 60 as bigint)
{%- endmacro %}
