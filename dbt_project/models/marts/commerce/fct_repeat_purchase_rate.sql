-- Grain: one row per first-purchase month plus one `all` row: repeat purchase rate =
-- customers with 2+ completed orders / customers with 1+ (domain.md), as of the run.
with customers as (
    select
        customer_key,
        {{ dbt.date_trunc('month', 'min(ordered_date)') }} as cohort_month,
        count(*) as completed_orders
    from {{ ref('fct_orders') }}
    where is_completed and customer_key is not null
    group by customer_key
),

by_cohort as (
    select
        {{ format_time('cohort_month', '%Y-%m') }} as cohort,
        count(*) as purchasing_customers,
        count(*) filter (where completed_orders >= 2) as repeat_customers
    from customers
    group by cohort_month

    union all

    select
        'all' as cohort,
        count(*) as purchasing_customers,
        count(*) filter (where completed_orders >= 2) as repeat_customers
    from customers
)

select
    cohort,
    purchasing_customers,
    repeat_customers,
    repeat_customers / purchasing_customers as repeat_purchase_rate,
    {{ as_of_date() }} as as_of_date
from by_cohort
