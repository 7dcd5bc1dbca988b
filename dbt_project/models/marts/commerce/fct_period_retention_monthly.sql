-- Grain: one row per month from the second month with purchases to the as-of month.
-- Retention rate = customers active (a completed order) in the previous month who are
-- active again this month / customers active in the previous month (domain.md).
with active as (
    select distinct
        customer_key,
        {{ dbt.date_trunc('month', 'ordered_date') }} as activity_month
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

months as (
    select
        {{ series(
            'min(active.activity_month) + interval 1 month',
            'any_value(as_of.as_of_month)',
            'interval 1 month',
            'date',
        ) }} as activity_month
    from active
    cross join as_of
),

active_by_month as (
    select
        activity_month,
        count(*) as active_customers
    from active
    group by activity_month
),

retained_by_month as (
    select
        this_month.activity_month,
        count(*) as retained_customers
    from active as this_month
    inner join active as last_month
        on this_month.customer_key = last_month.customer_key
            and last_month.activity_month = this_month.activity_month - interval 1 month
    group by this_month.activity_month
)

select
    months.activity_month,
    coalesce(previous.active_customers, 0) as active_previous_month,
    coalesce(retained.retained_customers, 0) as retained_customers,
    coalesce(current.active_customers, 0) as active_customers,
    case when previous.active_customers > 0
            then coalesce(retained.retained_customers, 0) / previous.active_customers
    end as retention_rate,
    as_of.as_of_date
from months
cross join as_of
left join active_by_month as previous on previous.activity_month = months.activity_month - interval 1 month
left join active_by_month as current on months.activity_month = current.activity_month
left join retained_by_month as retained on months.activity_month = retained.activity_month
