-- One row per customer_key with social activity: profiles, interactions, sentiment,
-- referrals made.
with interactions as (
    select * from {{ ref('int_social_interactions_scored') }}
),

keys as (
    select * from {{ ref('int_customer_keys_of_social_profiles') }}
),

keyed as (
    select
        keys.customer_key,
        interactions.*
    from interactions
    inner join keys on interactions.profile_id = keys.record_id
),

profiles as (
    select
        customer_key,
        count(*) as social_profiles
    from keys
    group by customer_key
)

select
    profiles.customer_key,
    profiles.social_profiles,
    count(keyed.interaction_id) as social_interactions,
    count(*) filter (where keyed.interaction_type = 'mention') as social_mentions,
    cast(avg(keyed.sentiment_score) as decimal(5, 4)) as avg_sentiment,
    count(*) filter (
        where keyed.sentiment_label = 'positive' and keyed.interaction_type in ('mention', 'review', 'comment')
    ) as positive_mentions,
    count(*) filter (where keyed.interaction_type = 'referral') as referrals_made,
    max(keyed.occurred_at) as last_social_at
from profiles
left join keyed on profiles.customer_key = keyed.customer_key
group by profiles.customer_key, profiles.social_profiles
