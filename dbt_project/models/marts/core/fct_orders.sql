-- The consumer face of int_orders_enriched: intermediate models read that model, so the
-- DAG only points forward (revenue rules live there). The incremental bookkeeping column
-- stays behind; the as-of date is the run's.
with orders_enriched as (
    select * from {{ ref('int_orders_enriched') }}
)

select
    {{ star_except(['_last_load_id']) }},
    {{ as_of_date() }} as as_of_date
from orders_enriched
