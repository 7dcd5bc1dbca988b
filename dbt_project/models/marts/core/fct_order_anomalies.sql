-- Grain: one row per order and anomaly: orders whose figures are kept as delivered but
-- deserve a look, each with what it does to the figures. Nothing here is dropped or
-- corrected; the warn test order_anomalies_are_reported raises them on every run.
--   return_exceeds_sale: a completed order whose lines net below zero (returns larger
--     than the sale). Its revenue counts 0; the excess return counts nowhere.
--   ordered_before_account: an order placed before its shop account was created. The
--     customer is first seen at the order (first_seen_at), not at the account.
--   currency_differs: an order in another currency than most of its customer's
--     completed orders. The customer's sums add it as it is: no rate is declared.
with orders as (
    select * from {{ ref('int_orders_enriched') }}
),

sales_customers as (
    select * from {{ ref('stg_sales__customers') }}
),

currency_orders as (
    select
        customer_key,
        currency,
        count(*) as orders_in_currency
    from orders
    where is_completed and customer_key is not null and currency is not null
    group by customer_key, currency
),

-- the currency most of a customer's completed orders are in (ties: the first by name)
main_currencies as (
    select
        customer_key,
        currency as main_currency
    from (
        select
            *,
            row_number() over (
                partition by customer_key order by orders_in_currency desc, currency asc
            ) as currency_rank
        from currency_orders
    ) as ranked
    where currency_rank = 1
),

returns_exceeding_sales as (
    select
        order_id,
        customer_key,
        'return_exceeds_sale' as anomaly,
        order_amount as amount,
        'its lines net to ' || cast(order_amount as {{ dbt.type_string() }})
        || ': the completed order counts 0 revenue and the excess return counts nowhere' as detail
    from orders
    where is_completed and order_amount < 0
),

orders_before_accounts as (
    select
        orders.order_id,
        orders.customer_key,
        'ordered_before_account' as anomaly,
        orders.order_amount as amount,
        'ordered ' || cast(orders.ordered_at as {{ dbt.type_string() }}) || ', account created '
        || cast(sales_customers.created_at as {{ dbt.type_string() }})
        || ': the customer is first seen at the order' as detail
    from orders
    inner join sales_customers on orders.customer_id = sales_customers.customer_id
    where orders.ordered_at < sales_customers.created_at
),

orders_in_other_currencies as (
    select
        orders.order_id,
        orders.customer_key,
        'currency_differs' as anomaly,
        orders.order_amount as amount,
        'in ' || orders.currency || ', most orders of the customer in '
        || main_currencies.main_currency
        || ': summed with them as it is (no conversion rate is declared)' as detail
    from orders
    inner join main_currencies on orders.customer_key = main_currencies.customer_key
    where orders.is_completed and orders.currency <> main_currencies.main_currency
),

final as (
    select * from returns_exceeding_sales
    union all
    select * from orders_before_accounts
    union all
    select * from orders_in_other_currencies
)

select * from final
