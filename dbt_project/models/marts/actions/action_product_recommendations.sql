-- Grain: one row per customer x recommended product (up to 3 per customer). Item-to-item
-- co-purchase: products bought by the same customers as the products in this customer's
-- basket, scored by the number of such co-purchasing customers, excluding products the
-- customer already has. Products bought by fewer than 2 customers are not recommended,
-- and each product contributes only its 20 strongest companions, which bounds the work
-- at any scale (customers x products x 20).
with purchases as (
    select
        orders.customer_key,
        lines.product_id,
        count(*) as lines_bought
    from {{ ref('fct_orders') }} as orders
    inner join {{ ref('stg_sales__order_lines') }} as lines on orders.order_id = lines.order_id
    where orders.is_completed and orders.customer_key is not null and lines.product_id is not null
    group by 1, 2
),

-- Pairs come from each customer's 50 most bought products: a wholesale buyer with
-- thousands of products would otherwise dominate the pair count quadratically.
basket as (
    select
        customer_key,
        product_id
    from (
        select
            *,
            row_number() over (partition by customer_key order by lines_bought desc, product_id asc) as basket_rank
        from purchases
    ) as ranked_purchases
    where basket_rank <= 50
),

popular as (
    select product_id from purchases
    group by product_id
    having count(*) >= 2
),

co_purchases as (
    -- products a and b bought by the same customer, counted over customers
    select
        a.product_id,
        b.product_id as also_bought,
        count(*) as co_buyers
    from basket as a
    inner join basket as b on a.customer_key = b.customer_key and a.product_id <> b.product_id
    where b.product_id in (select popular.product_id from popular)
    group by a.product_id, b.product_id
),

strongest as (
    select *
    from (
        select
            *,
            row_number() over (partition by product_id order by co_buyers desc, also_bought asc) as strength_rank
        from co_purchases
    ) as ranked_pairs
    where strength_rank <= 20
),

scored as (
    select
        purchases.customer_key,
        strongest.also_bought as product_id,
        sum(strongest.co_buyers) as score
    from purchases
    inner join strongest on purchases.product_id = strongest.product_id
    anti join purchases as owned
        on purchases.customer_key = owned.customer_key and strongest.also_bought = owned.product_id
    group by 1, 2
),

ranked as (
    select
        *,
        row_number() over (partition by customer_key order by score desc, product_id asc) as recommendation_rank
    from scored
)

select
    ranked.customer_key,
    ranked.recommendation_rank,
    ranked.product_id,
    products.product_name,
    products.category,
    ranked.score as co_purchase_score,
    {{ as_of_date() }} as as_of_date
from ranked
left join {{ ref('stg_sales__products') }} as products on ranked.product_id = products.product_id
where ranked.recommendation_rank <= 3
