-- Kept as a table, not a view: every reader (models and tests) would otherwise pick the
-- latest version of every event again. Incremental (macros/incremental.sql): a run
-- re-derives the latest version of the keys with a raw row loaded since, from all their
-- versions.
{{ config(
    materialized=incremental_or_table(),
    unique_key='order_line_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as (
    select * from {{ source('sales', 'order_lines') }}
    {% if is_incremental() %}
        where {{ key_loaded_since_last_build(source('sales', 'order_lines'), 'order_line_id') }}
    {% endif %}
),

latest as (
    {{ latest_version('source', 'order_line_id') }}
)

select
    order_line_id,
    order_id,
    product_id,
    quantity,
    cast(unit_price as decimal(18, 4)) as unit_price,
    cast(coalesce(discount_amount, 0) as decimal(18, 4)) as discount_amount,
    cast(quantity * unit_price - coalesce(discount_amount, 0) as decimal(18, 4)) as line_amount,
    {{ newest_load_id() }} as _last_load_id
from latest
