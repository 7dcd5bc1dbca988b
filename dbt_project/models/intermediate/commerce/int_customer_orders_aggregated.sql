-- One row per customer_key with at least one order: commerce figures as of the run.
-- Incremental (macros/incremental.sql): a run re-aggregates the customers whose orders
-- int_orders_enriched rebuilt since, and the buyers of products whose category changed;
-- keys that no longer exist (merged away) are deleted.
{{ config(
    materialized=incremental_or_table(),
    unique_key='customer_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=["{{ delete_retired_customer_keys(ref('int_orders_enriched')) }}"],
) }}

with all_orders as (
    select * from {{ ref('int_orders_enriched') }}
    where customer_key is not null
),

order_lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

products as (
    select * from {{ ref('stg_sales__products') }}
),

{% if is_incremental() %}
    changed_customer_keys as (
        select customer_key from all_orders
        where {{ loaded_since_last_build('_last_load_id') }}
        union
        select all_orders.customer_key from all_orders
        inner join order_lines on all_orders.order_id = order_lines.order_id
        inner join {{ source('sales', 'products') }} as loaded_products
            on order_lines.product_id = loaded_products.product_id
        where {{ loaded_since_last_build('loaded_products._load_id') }}
    ),

    orders as (
        select all_orders.* from all_orders
        inner join changed_customer_keys
            on all_orders.customer_key = changed_customer_keys.customer_key
    ),
{% else %}
    orders as (
        select * from all_orders
    ),
{% endif %}

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
        {{ min_by('category', sort_key(['-spend', 'category'])) }} as favourite_category
    from category_spend
    group by customer_key
)

select
    per_customer.*,
    favourite_category.favourite_category,
    {{ newest_load_id() }} as _last_load_id
from per_customer
left join favourite_category on per_customer.customer_key = favourite_category.customer_key
