with source as (
    select * from {{ source('crm', 'campaign_touches') }}
    where {{ before_as_of('occurred_at') }}
),

latest as (
    {{ latest_version('source', 'touch_id') }}
),

renamed as (
    select
        touch_id,
        touch_type,
        occurred_at,
        contact_id,
        {{ normalise_email('email') }} as email,
        campaign_id,
        lower(channel) as channel,
        touch_type in ('recommendation_click', 'triggered_message') as is_automated_personalised
    from latest
)

select * from renamed
