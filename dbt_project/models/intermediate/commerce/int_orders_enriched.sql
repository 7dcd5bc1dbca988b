-- Revenue rules (documented in _core__models.yml):
--   completed: gross = order amount, no refund;
--   refunded:  gross = order amount when positive, refund = its absolute value, so a
--              refunded sale nets to 0 and a credit note (negative lines) nets negative;
--   cancelled: no revenue at all.
-- Incremental (macros/incremental.sql): an order's number among its customer's orders
-- depends on all of them, so a run rebuilds every order of each customer touched by a
-- changed order (new or corrected rows, lines, a moved customer key, the lookback window).
{{ config(
    materialized=incremental_or_table(),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with orders as (
    select * from {{ ref('stg_sales__orders') }}
),

order_lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

customer_keys as (
    select * from {{ ref('int_customer_keys_of_sales_customers') }}
),

{% if is_incremental() %}
    built as (
        select * from {{ this }}
    ),

    changed_orders as (
        select order_id from {{ source('sales', 'orders') }}
        where {{ loaded_since_last_build() }}
        union
        select order_id from {{ source('sales', 'order_lines') }}
        where {{ loaded_since_last_build() }}
        union
        select built.order_id from built
        where {{ within_lookback('ordered_date', 'built') }}
        union
        select built.order_id from built
        left join customer_keys on built.customer_id = customer_keys.record_id
        where built.customer_key is distinct from customer_keys.customer_key
    ),

    -- the customers the changed orders belong to now, and belonged to when last built
    touched_customer_keys as (
        select customer_keys.customer_key from orders
        inner join changed_orders on orders.order_id = changed_orders.order_id
        inner join customer_keys on orders.customer_id = customer_keys.record_id
        union
        select built.customer_key from built
        inner join changed_orders on built.order_id = changed_orders.order_id
        where built.customer_key is not null
    ),

    orders_to_build as (
        select orders.* from orders
        left join customer_keys on orders.customer_id = customer_keys.record_id
        left join changed_orders on orders.order_id = changed_orders.order_id
        left join touched_customer_keys
            on customer_keys.customer_key = touched_customer_keys.customer_key
        where
            changed_orders.order_id is not null
            or touched_customer_keys.customer_key is not null
    ),
{% else %}
    orders_to_build as (
        select * from orders
    ),
{% endif %}

order_totals as (
    select
        order_lines.order_id,
        count(*) as line_count,
        sum(order_lines.quantity) as item_count,
        sum(order_lines.discount_amount) as discount_amount,
        sum(order_lines.line_amount) as order_amount
    from order_lines
    inner join orders_to_build on order_lines.order_id = orders_to_build.order_id
    group by order_lines.order_id
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
    from orders_to_build as orders
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
        {{ newest_load_id() }} as _last_load_id
    from sequenced
)

select * from final
