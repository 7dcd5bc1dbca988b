with source as (
    select * from {{ source('crm', 'loyalty_events') }}
    where {{ before_as_of('occurred_at') }}
),

latest as (
    {{ latest_version('source', 'event_id') }}
),

signed as (
    select
        event_id,
        contact_id,
        event_type,
        occurred_at,
        lower(nullif(trim(tier), '')) as tier,
        membership_expires_at,
        -- Sources differ in the sign of redemptions and expiries: points leaving the
        -- balance are always negative here.
        case
            when event_type in ('redeem', 'expire') then -abs(coalesce(points, 0))
            when event_type = 'earn' then abs(coalesce(points, 0))
            else coalesce(points, 0)
        end as points_delta
    from latest
)

select * from signed
