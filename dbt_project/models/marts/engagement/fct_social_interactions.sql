-- Grain: one row per social interaction, with the customer_key of the profile (null for
-- profiles not linked to any other record are still customers; every profile has a key)
-- and VADER sentiment.
with scored as (
    select * from {{ ref('int_social_interactions_scored') }}
),

profile_keys as (
    select * from {{ ref('int_customer_keys_of_social_profiles') }}
)

select
    scored.interaction_id,
    profile_keys.customer_key,
    scored.profile_id,
    scored.interaction_type,
    scored.occurred_at,
    {{ dbt.date_trunc('month', 'scored.occurred_at') }} as interaction_month,
    scored.post_id,
    scored.sentiment_score,
    scored.sentiment_label,
    scored.interaction_type = 'referral' as is_referral,
    {{ as_of_date() }} as as_of_date
from scored
left join profile_keys on scored.profile_id = profile_keys.record_id
