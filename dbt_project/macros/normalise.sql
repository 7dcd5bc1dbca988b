{# Identity-key normalisation (domain.md). Placeholder values are removed in the identity
   edges, not here, so profiles still show what the source said. #}
{# Emails and handles hold no whitespace: every kind CRMs carry along (a non-breaking
   space, a zero-width space or joiner, a byte-order mark) goes, so one person's address
   is one key however it was pasted. #}
{% macro normalise_email(column) -%}
    case
        when {{ regexp_full_match('lower(' ~ strip_invisible(column) ~ ')', '[^@\s]+@[^@\s]+\.[^@\s]+') }}
            then lower({{ strip_invisible(column) }})
    end
{%- endmacro %}

{# Read in the record's country when one is given and the number is no valid number of
   the default region (warehouse/udfs.py). #}
{% macro normalise_phone(column, country=none) -%}
    {%- if country -%}
        c360_phone_e164_in_country({{ column }}, '{{ var("default_phone_region") }}', {{ country }})
    {%- else -%}
        c360_phone_e164({{ column }}, '{{ var("default_phone_region") }}')
    {%- endif -%}
{%- endmacro %}

{% macro normalise_handle(column) -%}
    nullif(lower(regexp_replace({{ strip_invisible(column) }}, '^@+', '')), '')
{%- endmacro %}

{% macro sentiment(column) -%}
    c360_sentiment({{ column }})
{%- endmacro %}

{% macro sql_list(values) -%}
    ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{# Keys that must never link records: configured placeholders plus obvious junk. #}
{% macro is_junk_email(column) -%}
    ({{ column }} in {{ sql_list(var('placeholder_emails')) }}
     or split_part({{ column }}, '@', 1) in ('test', 'none', 'noemail', 'null', 'na', 'n/a', 'unknown', 'noreply', 'no-reply', 'x', 'xx', 'xxx'))
{%- endmacro %}

{# The key ids (`email=...`, `phone=...`) of the emails and phones that more records of
   one source hold than var identity_max_records_per_value: a placeholder nobody listed,
   agreeing between strangers, so never an identity. Counted over every record of
   `records` (int_identity_records_unioned). #}
{% macro shared_identity_values(records) -%}
    select distinct key_id
    from (
        select
            'email=' || email as key_id,
            record_source
        from {{ records }}
        where email is not null
        union all
        select
            'phone=' || phone as key_id,
            record_source
        from {{ records }}
        where phone is not null
    ) as held_values
    group by key_id, record_source
    having count(*) > {{ var('identity_max_records_per_value') | int }}
{%- endmacro %}

{% macro is_junk_phone(column) -%}
    ({{ column }} is null
     or right({{ column }}, 10) in {{ sql_list(var('placeholder_phones')) }}
     or length(replace(right({{ column }}, 10), left(right({{ column }}, 10), 1), '')) = 0
     or length({{ column }}) < 9)
{%- endmacro %}

{# DuckDB needs the hint to compute an iteration once when two later steps read it. #}
{% macro materialized_cte() -%}
    {%- if target.type == 'duckdb' -%}materialized{%- endif -%}
{%- endmacro %}
