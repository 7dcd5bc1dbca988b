-- Kept as a table, not a view: phone parsing is a Python UDF, too slow to run again over
-- every record for each reader (and on Spark a view may not call the session's UDFs).
-- Incremental (macros/incremental.sql): a run re-derives the latest version of the keys
-- with a raw row loaded since, from all their versions.
{{ config(
    materialized=incremental_or_table(),
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as (
    select * from {{ source('sales', 'customers') }}
    where
        {{ visible_as_of(['created_at', 'updated_at']) }}
        {% if is_incremental() %}
            and {{ key_loaded_since_last_build(source('sales', 'customers'), 'customer_id') }}
        {% endif %}
),

latest as (
    {{ latest_version('source', 'customer_id', 'updated_at') }}
)

select
    customer_id,
    created_at,
    coalesce(updated_at, created_at) as updated_at,
    nullif(trim(first_name), '') as first_name,
    nullif(trim(last_name), '') as last_name,
    email as email_raw,
    {{ normalise_email('email') }} as email,
    phone as phone_raw,
    {{ normalise_phone('phone', 'country') }} as phone,
    upper(nullif(trim(country), '')) as country,
    {{ newest_load_id() }} as _last_load_id
from latest
