-- Grain: one row per first-purchase month (cohort) x months since that month, up to the
-- as-of month, zeros included. A customer is active in a month with a completed order.
with orders as (
    select
        customer_key,
        {{ dbt.date_trunc('month', 'ordered_date') }} as order_month,
        net_amount
    from {{ ref('fct_orders') }}
    where is_completed and customer_key is not null
),

run_as_of as (
    {{ as_of_row() }}
),

as_of as (
    select
        *,
        {{ dbt.date_trunc('month', 'as_of_date') }} as as_of_month
    from run_as_of
),

first_purchase as (
    select
        customer_key,
        min(order_month) as cohort_month
    from orders
    group by customer_key
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_customers
    from first_purchase
    group by cohort_month
),

activity as (
    select
        first_purchase.cohort_month,
        {{ dbt.datediff('first_purchase.cohort_month', 'orders.order_month', 'month') }} as months_since_first_purchase,
        count(distinct orders.customer_key) as active_customers,
        sum(orders.net_amount) as net_revenue
    from orders
    inner join first_purchase on orders.customer_key = first_purchase.customer_key
    group by 1, 2
),

grid as (
    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_customers,
        months.months_since_first_purchase
    from cohort_sizes
    cross join as_of
    -- one row per month since the cohort's first: a lateral series, no calendar table needed
    cross join lateral (  -- noqa: ST05
        select {{ series('0', dbt.datediff('cohort_sizes.cohort_month', 'as_of.as_of_month', 'month')) }}
            as months_since_first_purchase
    ) as months
)

select
    grid.cohort_month,
    grid.months_since_first_purchase,
    grid.cohort_customers,
    coalesce(activity.active_customers, 0) as active_customers,
    coalesce(activity.active_customers, 0) / grid.cohort_customers as retention_share,
    cast(coalesce(activity.net_revenue, 0) as decimal(18, 4)) as net_revenue,
    as_of.as_of_date
from grid
cross join as_of
left join activity
    on grid.cohort_month = activity.cohort_month
        and grid.months_since_first_purchase = activity.months_since_first_purchase
