with source as (
    select * from {{ source('sales', 'products') }}
    where {{ visible_as_of(['updated_at']) }}
),

latest as (
    {{ latest_version('source', 'product_id', 'updated_at') }}
)

select
    product_id,
    name as product_name,
    coalesce(lower(nullif(trim(category), '')), 'uncategorised') as category,
    list_price
from latest
