-- Grain: one row per loyalty event of a known customer, with the running points balance.
-- Points leaving (redeem, expire) are negative. The balance never goes negative unless
-- the source let a member redeem more than they held (singular test
-- loyalty_balance_not_negative flags those).
with events as (
    select * from {{ ref('stg_crm__loyalty_events') }}
),

contact_keys as (
    select * from {{ ref('int_customer_keys_of_crm_contacts') }}
)

select
    events.event_id,
    contact_keys.customer_key,
    events.event_type,
    events.occurred_at,
    events.tier,
    events.points_delta,
    sum(events.points_delta) over (
        partition by contact_keys.customer_key
        order by events.occurred_at, events.event_id
        rows between unbounded preceding and current row
    ) as points_balance_after,
    {{ as_of_date() }} as as_of_date
from events
inner join contact_keys on events.contact_id = contact_keys.record_id
