-- Grain: one row. How long customers take between purchase days: the median and 90th
-- percentile of every gap between a customer's consecutive purchase days (repeat buyers
-- only), the yardstick churn_risk measures a customer's silence against.
with gaps as (
    select
        {{ dbt.datediff(
            'lag(purchase_date) over (partition by customer_key order by purchase_date)',
            'purchase_date', 'day') }} as gap_days
    from {{ ref('int_customer_purchase_days') }}
)

select
    count(gap_days) as gaps,
    {{ quantile_cont('gap_days', 0.5) }} as median_gap_days,
    {{ quantile_cont('gap_days', 0.9) }} as p90_gap_days
from gaps
