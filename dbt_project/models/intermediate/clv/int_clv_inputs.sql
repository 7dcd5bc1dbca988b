-- One row per customer with a completed purchase: the buy-till-you-die inputs as of the
-- run. A transaction is a purchase day (same-day orders merge). Time unit: weeks
-- (var clv_time_unit_days, default 7).
--   frequency     = purchase days - 1 (repeat purchase days)
--   recency       = first to last purchase day
--   t             = first purchase day to the end of the as-of day
--   monetary_value = mean net value of the repeat purchase days (first day excluded, the
--                    Gamma-Gamma convention); 0 without repeats
{%- set unit_days = var('clv_time_unit_days') %}

with purchase_days as (
    select
        customer_key,
        ordered_date,
        sum(net_amount) as day_value
    from {{ ref('int_orders_enriched') }}
    where is_completed and customer_key is not null
    group by customer_key, ordered_date
),

ranked as (
    select
        *,
        row_number() over (partition by customer_key order by ordered_date) as day_number
    from purchase_days
),

as_of as (
    {{ as_of_row() }}
)

select
    ranked.customer_key,
    count(*) - 1 as frequency,
    {{ dbt.datediff('min(ranked.ordered_date)', 'max(ranked.ordered_date)', 'day') }} / {{ unit_days }} as recency,
    ({{ dbt.datediff('min(ranked.ordered_date)', 'any_value(as_of.as_of_date)', 'day') }} + 1) / {{ unit_days }} as t,
    cast(coalesce(avg(ranked.day_value) filter (where ranked.day_number > 1), 0) as double) as monetary_value,
    any_value(as_of.as_of_date) as as_of_date
from ranked
cross join as_of
group by ranked.customer_key
