-- The consumer face of int_orders_enriched: intermediate models read that model, so the
-- DAG only points forward (revenue rules live there).
with orders_enriched as (
    select * from {{ ref('int_orders_enriched') }}
)

select * from orders_enriched
