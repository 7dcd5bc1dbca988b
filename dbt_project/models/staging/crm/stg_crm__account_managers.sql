with source as (
    select * from {{ source('crm', 'account_managers') }}
),

latest as (
    {{ latest_version('source', 'account_manager_id') }}
)

select
    account_manager_id,
    name as account_manager_name,
    {{ normalise_email('email') }} as email
from latest
