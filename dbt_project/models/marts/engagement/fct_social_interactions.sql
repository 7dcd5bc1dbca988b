-- Grain: one row per social interaction, with the customer_key of the profile (null
-- profiles not linked to any other record are still customers; every profile has a key)
-- and VADER sentiment. No as-of date in the rows, so the table is kept, not rebuilt
-- (macros/incremental.sql): a run rewrites the interactions scored since and those whose
-- profile's customer key changed (a merge or split).
{{ config(
    materialized=incremental_or_table(),
    unique_key='interaction_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with all_scored as (
    select * from {{ ref('int_social_interactions_scored') }}
),

profile_keys as (
    select * from {{ ref('int_customer_keys_of_social_profiles') }}
),

{% if is_incremental() %}
    changed_interactions as (
        select interaction_id from all_scored
        where {{ loaded_since_last_build('_last_load_id') }}
        union
        select built.interaction_id from {{ this }} as built
        left join profile_keys on built.profile_id = profile_keys.record_id
        where built.customer_key is distinct from profile_keys.customer_key
    ),

    scored as (
        select all_scored.* from all_scored
        inner join changed_interactions
            on all_scored.interaction_id = changed_interactions.interaction_id
    ),
{% else %}
    scored as (
        select * from all_scored
    ),
{% endif %}

final as (
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
        {{ newest_load_id() }} as _last_load_id
    from scored
    left join profile_keys on scored.profile_id = profile_keys.record_id
)

select * from final
