-- The consumer face of int_orders_enriched: intermediate models read that model, so the
-- DAG only points forward (revenue rules live there). No as-of date in the rows (an order
-- does not change when the date moves: the build's date is ops.build_as_of, served as
-- audit.publish_log.as_of), so the table is kept, not rebuilt: a run rewrites the orders
-- int_orders_enriched rebuilt since (macros/incremental.sql), with the load id they carry.
{{ config(
    materialized=incremental_or_table(),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with orders_enriched as (
    select * from {{ ref('int_orders_enriched') }}
    {% if is_incremental() %}
        where {{ loaded_since_last_build('_last_load_id') }}
    {% endif %}
)

select * from orders_enriched
