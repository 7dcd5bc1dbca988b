with source as (
    select * from {{ source('sales', 'order_lines') }}
),

latest as (
    {{ latest_version('source', 'order_line_id') }}
)

select
    order_line_id,
    order_id,
    product_id,
    quantity,
    cast(unit_price as decimal(18, 4)) as unit_price,
    cast(coalesce(discount_amount, 0) as decimal(18, 4)) as discount_amount,
    cast(quantity * unit_price - coalesce(discount_amount, 0) as decimal(18, 4)) as line_amount
from latest
