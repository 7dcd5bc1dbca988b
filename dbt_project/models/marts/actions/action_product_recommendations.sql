-- Grain: one row per customer x recommended product (up to 3 per customer). Item-to-item
-- co-purchase: products bought by the same customers as the products in this customer's
-- basket, scored by the number of such co-purchasing customers, excluding products the
-- customer already has. Products bought by fewer than 2 customers are not recommended,
-- and each product contributes only its 20 strongest companions, which bounds the work
-- at any scale (customers x products x 20). Customers and products are numbered first:
-- the joins, groups and windows over millions of candidate pairs then work on integers
-- rather than text keys (about twice as fast). Scoring runs in slices of customers: one
-- aggregation over every customer's candidates (about 150M rows into 20M groups at 10M
-- order lines) spills past the memory limit and took twice as long as the slices, each
-- of which fits (45 s -> 23 s at 10M; the list is the same).
with orders as (
    select * from {{ ref('fct_orders') }}
),

order_lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

products as (
    select * from {{ ref('stg_sales__products') }}
),

purchases_by_key as (
    select
        orders.customer_key,
        order_lines.product_id,
        count(*) as lines_bought
    from orders
    inner join order_lines on orders.order_id = order_lines.order_id
    where orders.is_completed and orders.customer_key is not null and order_lines.product_id is not null
    group by 1, 2
),

customer_numbers as (
    select
        customer_key,
        cast(row_number() over (order by customer_key) as integer) as customer_number
    from (select distinct customer_key from purchases_by_key) as buyers
),

product_numbers as (
    select
        product_id,
        cast(row_number() over (order by product_id) as integer) as product_number
    from (select distinct product_id from purchases_by_key) as bought
),

purchases as {{ materialized_cte() }} (
    select
        customer_numbers.customer_number,
        product_numbers.product_number,
        purchases_by_key.lines_bought
    from purchases_by_key
    inner join customer_numbers on purchases_by_key.customer_key = customer_numbers.customer_key
    inner join product_numbers on purchases_by_key.product_id = product_numbers.product_id
),

-- Pairs come from each customer's 50 most bought products: a wholesale buyer with
-- thousands of products would otherwise dominate the pair count quadratically.
-- (product_number follows product_id, so ties break as they did on the text ids.)
basket as (
    select
        customer_number,
        product_number
    from (
        select
            *,
            row_number() over (
                partition by customer_number order by lines_bought desc, product_number asc
            ) as basket_rank
        from purchases
    ) as ranked_purchases
    where basket_rank <= 50
),

popular as (
    select product_number from purchases
    group by product_number
    having count(*) >= 2
),

co_purchases as (
    -- products a and b bought by the same customer, counted over customers
    select
        a.product_number,
        b.product_number as also_bought,
        cast(count(*) as integer) as co_buyers
    from basket as a
    inner join basket as b on a.customer_number = b.customer_number and a.product_number <> b.product_number
    where b.product_number in (select popular.product_number from popular)
    group by a.product_number, b.product_number
),

strongest as {{ materialized_cte() }} (
    select *
    from (
        select
            *,
            row_number() over (partition by product_number order by co_buyers desc, also_bought asc) as strength_rank
        from co_purchases
    ) as ranked_pairs
    where strength_rank <= 20
),

{%- set customer_slices = 8 %}
{%- for slice in range(customer_slices) %}

    -- customers whose number leaves remainder {{ slice }}: their candidates scored (a sum
    -- in double, exact for these counts, keeps the aggregation's state small), the
    -- products they already have left out, the best three kept
    recommended_in_slice_{{ slice }} as (
        select *
        from (
            select
                candidates.*,
                row_number() over (
                    partition by candidates.customer_number
                    order by candidates.score desc, candidates.product_number asc
                ) as recommendation_rank
            from (
                select
                    purchases.customer_number,
                    strongest.also_bought as product_number,
                    cast(sum(cast(strongest.co_buyers as double)) as bigint) as score
                from purchases
                inner join strongest on purchases.product_number = strongest.product_number
                where purchases.customer_number % {{ customer_slices }} = {{ slice }}
                group by 1, 2
            ) as candidates
            anti join purchases as owned
                on candidates.customer_number = owned.customer_number
                    and candidates.product_number = owned.product_number
        ) as ranked_candidates
        where recommendation_rank <= 3
    ),
{%- endfor %}

ranked as (
    {%- for slice in range(customer_slices) %}
        select * from recommended_in_slice_{{ slice }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        customer_numbers.customer_key,
        ranked.recommendation_rank,
        product_numbers.product_id,
        products.product_name,
        products.category,
        ranked.score as co_purchase_score,
        {{ as_of_date() }} as as_of_date
    from ranked
    inner join customer_numbers on ranked.customer_number = customer_numbers.customer_number
    inner join product_numbers on ranked.product_number = product_numbers.product_number
    left join products on product_numbers.product_id = products.product_id
)

select * from final
