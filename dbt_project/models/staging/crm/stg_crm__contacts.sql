-- Kept as a table, not a view: phone parsing is a Python UDF, too slow to run again over
-- every record for each reader (and on Spark a view may not call the session's UDFs).
-- Incremental (macros/incremental.sql): a run re-derives the latest version of the keys
-- with a raw row loaded since, from all their versions.
{{ config(
    materialized=incremental_or_table(),
    unique_key='contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as (
    select * from {{ source('crm', 'contacts') }}
    where
        {{ visible_as_of(['created_at', 'updated_at']) }}
        {% if is_incremental() %}
            and {{ key_loaded_since_last_build(source('crm', 'contacts'), 'contact_id') }}
        {% endif %}
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
        {{ normalise_phone('phone', 'country') }} as phone,
        upper(nullif(trim(country), '')) as country,
        lower(nullif(trim(lead_source), '')) as lead_source,
        nullif(trim(account_manager_id), '') as account_manager_id,
        {{ normalise_handle('twitter_handle') }} as twitter_handle,
        {{ normalise_handle('instagram_handle') }} as instagram_handle,
        {{ normalise_handle('facebook_handle') }} as facebook_handle,
        {{ newest_load_id() }} as _last_load_id
    from latest
)

select * from renamed
