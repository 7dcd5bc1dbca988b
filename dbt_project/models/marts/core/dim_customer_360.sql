-- One row per customer_key: the unified 360-degree view (domain.md).
with profiles as (
    select * from {{ ref('int_customer_profiles_survived') }}
),

components as (
    select
        customer_key,
        max(component_size) as component_size,
        bool_or(is_component_oversized) as is_component_oversized
    from {{ ref('int_customer_keys_by_record') }}
    group by customer_key
),

commerce as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

service as (
    select * from {{ ref('int_customer_service_aggregated') }}
),

feedback as (
    select * from {{ ref('int_customer_feedback_aggregated') }}
),

loyalty as (
    select * from {{ ref('int_customer_loyalty_aggregated') }}
),

social as (
    select * from {{ ref('int_customer_social_aggregated') }}
),

marketing as (
    select * from {{ ref('int_customer_marketing_aggregated') }}
),

managers as (
    select * from {{ ref('int_customer_account_managers') }}
),

rfm as (
    select
        customer_key,
        rfm_segment,
        rfm_cell
    from {{ ref('fct_customer_rfm') }}
),

clv as (
    select
        customer_key,
        predicted_clv,
        probability_alive,
        churn_risk
    from {{ ref('fct_customer_clv') }}
),

-- The stage comes from the lifecycle history (one rule, macro lifecycle_stage).
current_stage as (
    select
        customer_key,
        lifecycle_stage
    from {{ ref('fct_customer_lifecycle_history') }}
    where is_current
),

as_of as (
    {{ as_of_row() }}
),

joined as (
    select
        profiles.customer_key,
        profiles.first_name,
        profiles.last_name,
        nullif(concat_ws(' ', profiles.first_name, profiles.last_name), '') as full_name,
        profiles.email,
        profiles.phone,
        profiles.country,
        profiles.first_seen_at,
        profiles.sources_seen_in,
        profiles.source_records,
        components.component_size,
        components.is_component_oversized,
        profiles.has_crm_contact,
        profiles.has_sales_account,
        profiles.has_social_profile,
        -- commerce
        commerce.first_order_at,
        commerce.last_order_at,
        coalesce(commerce.completed_orders, 0) as completed_orders,
        coalesce(commerce.purchase_days, 0) as purchase_days,
        coalesce(commerce.items_purchased, 0) as items_purchased,
        cast(coalesce(commerce.gross_revenue, 0) as decimal(18, 4)) as gross_revenue,
        cast(coalesce(commerce.refund_amount, 0) as decimal(18, 4)) as refund_amount,
        cast(coalesce(commerce.net_revenue, 0) as decimal(18, 4)) as net_revenue,
        case when commerce.completed_orders > 0
                then cast(commerce.gross_revenue / commerce.completed_orders as decimal(18, 4))
        end as average_order_value,
        {{ dbt.datediff('cast(commerce.last_order_at as date)', 'as_of.as_of_date', 'day') }} as days_since_last_order,
        commerce.favourite_category,
        -- service
        coalesce(service.interactions, 0) as service_interactions,
        coalesce(service.human_interactions, 0) as human_interactions,
        coalesce(service.self_service_interactions, 0) as self_service_interactions,
        coalesce(service.automated_interactions, 0) as automated_interactions,
        service.share_self_service,
        service.share_automated,
        service.share_human,
        coalesce(service.open_tickets, 0) as open_tickets,
        service.median_resolution_hours,
        -- feedback
        feedback.latest_nps_score,
        feedback.latest_nps_class,
        feedback.avg_csat_score,
        -- loyalty
        loyalty.enrolled_at is not null as is_loyalty_member,
        loyalty.loyalty_tier,
        coalesce(loyalty.points_balance, 0) as points_balance,
        coalesce(loyalty.points_earned, 0) as points_earned,
        coalesce(loyalty.points_redeemed, 0) as points_redeemed,
        -- social
        coalesce(social.social_profiles, 0) as social_profiles,
        coalesce(social.social_interactions, 0) as social_interactions,
        coalesce(social.social_mentions, 0) as social_mentions,
        social.avg_sentiment,
        coalesce(social.referrals_made, 0) as referrals_made,
        coalesce(social.positive_mentions, 0) as positive_mentions,
        -- marketing
        coalesce(marketing.campaign_touches, 0) as campaign_touches,
        -- relationship inputs
        managers.account_manager_id,
        managers.account_manager_book_size,
        coalesce(service.recent_interactions, 0) as recent_service_interactions,
        coalesce(service.recent_human_interactions, 0) as recent_human_interactions,
        coalesce(service.recent_self_service_interactions, 0) as recent_self_service_interactions,
        coalesce(service.recent_automated_interactions, 0)
        + coalesce(marketing.recent_automated_touches, 0) as recent_automated_engagement,
        coalesce(service.recent_interactions, 0) + coalesce(marketing.recent_engaged_touches, 0) as recent_engagement,
        as_of.as_of_date,
        current_stage.lifecycle_stage,
        coalesce(rfm.rfm_segment, 'no_purchase') as rfm_segment,
        rfm.rfm_cell,
        cast(coalesce(commerce.net_revenue, 0) as decimal(18, 4)) as historical_clv,
        clv.predicted_clv,
        clv.probability_alive,
        coalesce(clv.churn_risk, 'unknown') as churn_risk
    from profiles
    cross join as_of
    left join components on profiles.customer_key = components.customer_key
    left join commerce on profiles.customer_key = commerce.customer_key
    left join service on profiles.customer_key = service.customer_key
    left join feedback on profiles.customer_key = feedback.customer_key
    left join loyalty on profiles.customer_key = loyalty.customer_key
    left join social on profiles.customer_key = social.customer_key
    left join marketing on profiles.customer_key = marketing.customer_key
    left join managers on profiles.customer_key = managers.customer_key
    left join current_stage on profiles.customer_key = current_stage.customer_key
    left join rfm on profiles.customer_key = rfm.customer_key
    left join clv on profiles.customer_key = clv.customer_key
),

classified as (
    select
        *,
        -- Relationship type (domain.md), first match wins.
        case
            when account_manager_id is not null
                and account_manager_book_size <= {{ var('dedicated_book_max_customers') }}
                then 'dedicated_personal_assistance'
            when recent_human_interactions >= {{ var('personal_assistance_min_interactions') }}
                and recent_human_interactions * 2 > recent_service_interactions
                then 'personal_assistance'
            when recent_automated_engagement > 0 and recent_automated_engagement * 2 > recent_engagement
                then 'automated_services'
            when recent_self_service_interactions > 0
                and recent_self_service_interactions * 2 > recent_service_interactions
                then 'self_service'
            when completed_orders >= 2
                and {{ dbt.datediff('first_order_at', 'last_order_at', 'day') }}
                >= {{ var('long_term_min_tenure_days') }}
                then 'long_term'
            else 'transactional'
        end as relationship_type
    from joined
)

select * from classified
