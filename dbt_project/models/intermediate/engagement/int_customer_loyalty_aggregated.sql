-- One row per customer_key in the loyalty programme: tier, balance, earned and redeemed.
with events as (
    select * from {{ ref('stg_crm__loyalty_events') }}
),

keys as (
    select * from {{ ref('int_customer_keys_of_crm_contacts') }}
),

keyed as (
    select
        keys.customer_key,
        events.*
    from events
    inner join keys on events.contact_id = keys.record_id
)

select
    customer_key,
    min(occurred_at) filter (where event_type = 'enroll') as enrolled_at,
    {{ max_by('tier', sort_key(['occurred_at', 'event_id'])) }} filter (where tier is not null) as loyalty_tier,
    sum(points_delta) as points_balance,
    sum(points_delta) filter (where event_type = 'earn') as points_earned,
    -sum(points_delta) filter (where event_type = 'redeem') as points_redeemed,
    max(membership_expires_at) as membership_expires_at
from keyed
group by customer_key
