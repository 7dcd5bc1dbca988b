-- One row per customer_key with at least one order: commerce figures as of the run.
with orders as (
    select * from {{ ref('int_orders_enriched') }}
    where customer_key is not null
),

order_lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

products as (
    select * from {{ ref('stg_sales__products') }}
),

per_customer as (
    select
        customer_key,
        min(ordered_at) filter (where is_completed) as first_order_at,
        max(ordered_at) filter (where is_completed) as last_order_at,
        count(*) filter (where is_completed) as completed_orders,
        count(distinct ordered_date) filter (where is_completed) as purchase_days,
        count(*) as all_orders,
        sum(item_count) filter (where is_completed) as items_purchased,
        sum(gross_amount) as gross_revenue,
        sum(refund_amount) as refund_amount,
        sum(net_amount) as net_revenue,
        count(*) filter (where status = 'refunded') as refunded_orders,
        count(*) filter (where status = 'cancelled') as cancelled_orders
    from orders
    group by customer_key
),

category_spend as (
    select
        orders.customer_key,
        coalesce(products.category, 'uncategorised') as category,
        sum(order_lines.line_amount) as spend
    from orders
    inner join order_lines on orders.order_id = order_lines.order_id
    left join products on order_lines.product_id = products.product_id
    where orders.is_completed
    group by orders.customer_key, coalesce(products.category, 'uncategorised')
),

favourite_category as (
    -- Highest spend; ties go to the alphabetically first category.
    select
        customer_key,
        arg_min(category, struct_pack(neg_spend := -spend, category := category)) as favourite_category
    from category_spend
    group by customer_key
)

select
    per_customer.*,
    favourite_category.favourite_category
from per_customer
left join favourite_category on per_customer.customer_key = favourite_category.customer_key
