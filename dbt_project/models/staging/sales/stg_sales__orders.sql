-- Kept as a table, not a view: every reader (models and tests) would otherwise pick the
-- latest version of every event again. Incremental (macros/incremental.sql): a run
-- re-derives the latest version of the keys with a raw row loaded since, from all their
-- versions.
{{ config(
    materialized=incremental_or_table(),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as (
    select * from {{ source('sales', 'orders') }}
    where {{ visible_as_of(['ordered_at', 'updated_at']) }}
        {% if is_incremental() %}
            and {{ key_loaded_since_last_build(source('sales', 'orders'), 'order_id') }}
        {% endif %}
),

latest as (
    {{ latest_version('source', 'order_id', 'updated_at') }}
)

select
    order_id,
    nullif(trim(customer_id), '') as customer_id,
    nullif(trim(customer_id), '') is null as is_anonymous,
    ordered_at,
    cast(ordered_at as date) as ordered_date,
    status,
    upper(currency) as currency,
    lower(channel) as channel,
    coalesce(updated_at, ordered_at) as updated_at,
    {{ newest_load_id() }} as _last_load_id
from latest
