-- Grain: one row per customer with at least one completed order. Recency (days since the
-- last completed order), frequency (completed orders) and monetary (net revenue) scored
-- 1-5 by quintile: score = 1 + floor(5 * percent_rank), capped at 5, so equal values
-- always share a score (no arbitrary splitting of ties); 5 is best (most recent, most
-- frequent, highest spend). Segments are named in the order below, first match wins.
with as_of as (
    {{ as_of_row() }}
),

customers as (
    select
        orders.customer_key,
        {{ dbt.datediff('cast(orders.last_order_at as date)', 'as_of.as_of_date', 'day') }} as recency_days,
        orders.completed_orders as frequency,
        cast(orders.net_revenue as decimal(18, 4)) as monetary,
        as_of.as_of_date
    from {{ ref('int_customer_orders_aggregated') }} as orders
    cross join as_of
    where orders.completed_orders >= 1
),

scored as (
    select
        *,
        cast(least(5, 1 + floor(5 * percent_rank() over (order by recency_days desc))) as integer) as recency_score,
        cast(least(5, 1 + floor(5 * percent_rank() over (order by frequency))) as integer) as frequency_score,
        cast(least(5, 1 + floor(5 * percent_rank() over (order by monetary))) as integer) as monetary_score
    from customers
)

select
    customer_key,
    recency_days,
    frequency,
    monetary,
    recency_score,
    frequency_score,
    monetary_score,
    cast(recency_score as {{ dbt.type_string() }})
    || cast(frequency_score as {{ dbt.type_string() }})
    || cast(monetary_score as {{ dbt.type_string() }}) as rfm_cell,
    {{ rfm_segment('recency_score', 'frequency_score', 'monetary_score') }} as rfm_segment,
    as_of_date
from scored
