-- Grain: one row per customer and day with a completed purchase (same-day orders merge:
-- buy-till-you-die models count purchase days), with the day's net value and its rank.
select
    customer_key,
    ordered_date as purchase_date,
    sum(net_amount) as day_value,
    row_number() over (partition by customer_key order by ordered_date) as day_number
from {{ ref('int_orders_enriched') }}
where is_completed and customer_key is not null
group by customer_key, ordered_date
