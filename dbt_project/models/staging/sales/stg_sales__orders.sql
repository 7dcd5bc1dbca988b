with source as (
    select * from {{ source('sales', 'orders') }}
    where {{ visible_as_of(['ordered_at', 'updated_at']) }}
),

latest as (
    {{ latest_version('source', 'order_id', 'updated_at') }}
)

select
    order_id,
    nullif(trim(customer_id), '') as customer_id,
    nullif(trim(customer_id), '') is null as is_anonymous,
    ordered_at,
    cast(ordered_at as date) as ordered_date,
    status,
    upper(currency) as currency,
    lower(channel) as channel,
    coalesce(updated_at, ordered_at) as updated_at
from latest
