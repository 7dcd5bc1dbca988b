-- a table on Spark: a view there may not call the session's Python UDFs (phone parsing)
{{ config(materialized='table' if target.type == 'spark' else 'view') }}

with source as (
    select * from {{ source('crm', 'contacts') }}
    where {{ visible_as_of(['created_at', 'updated_at']) }}
),

latest as (
    {{ latest_version('source', 'contact_id', 'updated_at') }}
),

renamed as (
    select
        contact_id,
        created_at,
        coalesce(updated_at, created_at) as updated_at,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        email as email_raw,
        {{ normalise_email('email') }} as email,
        phone as phone_raw,
        {{ normalise_phone('phone') }} as phone,
        upper(nullif(trim(country), '')) as country,
        lower(nullif(trim(lead_source), '')) as lead_source,
        nullif(trim(account_manager_id), '') as account_manager_id,
        {{ normalise_handle('twitter_handle') }} as twitter_handle,
        {{ normalise_handle('instagram_handle') }} as instagram_handle,
        {{ normalise_handle('facebook_handle') }} as facebook_handle
    from latest
)

select * from renamed
