-- Kept as a table, not a view: every reader (models and tests) would otherwise pick the
-- latest version of every event again. Incremental (macros/incremental.sql): a run
-- re-derives the latest version of the keys with a raw row loaded since, from all their
-- versions.
{{ config(
    materialized=incremental_or_table(),
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as (
    select * from {{ source('crm', 'loyalty_events') }}
    where {{ before_as_of('occurred_at') }}
        {% if is_incremental() %}
            and {{ key_loaded_since_last_build(source('crm', 'loyalty_events'), 'event_id') }}
        {% endif %}
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
        end as points_delta,
        {{ newest_load_id() }} as _last_load_id
    from latest
)

select * from signed
