-- Warn, never block: rows whose parent never arrived are kept and counted in
-- fct_unmatched_references; this check makes them visible on every run.
{{ config(severity='warn') }}

select
    reference,
    unmatched_rows
from {{ ref('fct_unmatched_references') }}
where unmatched_rows > 0 and reference <> 'orders.customer_id'
