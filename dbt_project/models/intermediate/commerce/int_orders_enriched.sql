-- Revenue rules (documented in _core__models.yml):
--   completed: gross = order amount, no refund;
--   refunded:  gross = order amount when positive, refund = its absolute value, so a
--              refunded sale nets to 0 and a credit note (negative lines) nets negative;
--   cancelled: no revenue at all.
with orders as (
    select * from {{ ref('stg_sales__orders') }}
),

order_lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

customer_keys as (
    select * from {{ ref('int_customer_keys_of_sales_customers') }}
),

order_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_count,
        sum(discount_amount) as discount_amount,
        sum(line_amount) as order_amount
    from order_lines
    group by order_id
),

joined as (
    select
        orders.order_id,
        orders.customer_id,
        customer_keys.customer_key,
        orders.is_anonymous,
        orders.ordered_at,
        orders.ordered_date,
        orders.status,
        orders.currency,
        orders.channel,
        coalesce(order_totals.line_count, 0) as line_count,
        coalesce(order_totals.item_count, 0) as item_count,
        cast(coalesce(order_totals.discount_amount, 0) as decimal(18, 4)) as discount_amount,
        cast(coalesce(order_totals.order_amount, 0) as decimal(18, 4)) as order_amount
    from orders
    left join order_totals on orders.order_id = order_totals.order_id
    left join customer_keys on orders.customer_id = customer_keys.record_id
),

amounts as (
    select
        *,
        status = 'completed' as is_completed,
        cast(
            case when status in ('completed', 'refunded') then greatest(order_amount, 0) else 0 end
            as decimal(18, 4)
        ) as gross_amount,
        cast(
            case when status = 'refunded' then abs(order_amount) else 0 end
            as decimal(18, 4)
        ) as refund_amount
    from joined
),

sequenced as (
    select
        *,
        cast(gross_amount - refund_amount as decimal(18, 4)) as net_amount,
        case when is_completed and customer_key is not null then
                row_number() over (
                    partition by customer_key, is_completed order by ordered_at, order_id
                )
        end as completed_order_number
    from amounts
),

final as (
    select
        *,
        completed_order_number = 1 as is_first_order,
        completed_order_number > 1 as is_repeat_order,
        {{ as_of_date() }} as as_of_date
    from sequenced
)

select * from final
