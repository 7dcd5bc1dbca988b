-- Grain: one row per customer x recommended product (up to 3 per customer). Item-to-item
-- co-purchase: products bought by the same customers as the products this customer
-- bought, scored by the number of such co-purchasing customers, excluding products the
-- customer already has. Products bought by fewer than 2 customers are not recommended.
with purchases as (
    select distinct orders.customer_key, lines.product_id
    from {{ ref('fct_orders') }} as orders
    inner join {{ ref('stg_sales__order_lines') }} as lines on orders.order_id = lines.order_id
    where orders.is_completed and orders.customer_key is not null and lines.product_id is not null
),

popular as (
    select product_id from purchases group by product_id having count(*) >= 2
),

co_purchases as (
    -- products a and b bought by the same customer, counted over customers
    select a.product_id as product_id, b.product_id as also_bought, count(*) as co_buyers
    from purchases as a
    inner join purchases as b on a.customer_key = b.customer_key and a.product_id <> b.product_id
    where b.product_id in (select product_id from popular)
    group by 1, 2
),

scored as (
    select purchases.customer_key, co_purchases.also_bought as product_id, sum(co_purchases.co_buyers) as score
    from purchases
    inner join co_purchases on purchases.product_id = co_purchases.product_id
    anti join purchases as owned
        on owned.customer_key = purchases.customer_key and owned.product_id = co_purchases.also_bought
    group by 1, 2
),

ranked as (
    select *, row_number() over (partition by customer_key order by score desc, product_id) as recommendation_rank
    from scored
)

select
    ranked.customer_key,
    ranked.recommendation_rank,
    ranked.product_id,
    products.product_name,
    products.category,
    ranked.score as co_purchase_score,
    (select as_of_date from {{ ref('stg_run__as_of') }}) as as_of_date
from ranked
left join {{ ref('stg_sales__products') }} as products on ranked.product_id = products.product_id
where ranked.recommendation_rank <= 3
