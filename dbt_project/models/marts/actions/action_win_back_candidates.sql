-- Grain: one row per lapsed customer (no purchase within churn_window_days), most
-- valuable first, with what they liked buying.
select
    customer_key,
    full_name,
    email,
    phone,
    last_order_at,
    days_since_last_order,
    completed_orders,
    net_revenue,
    favourite_category,
    rank() over (order by net_revenue desc, customer_key asc) as priority,
    as_of_date
from {{ ref('dim_customer_360') }}
where lifecycle_stage = 'lapsed'
