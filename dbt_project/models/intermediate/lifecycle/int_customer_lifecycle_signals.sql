-- One row per customer per day on which something that can move the lifecycle stage
-- happened (domain.md): first reach, becoming a lead, completed purchases, a purchase
-- ageing past the churn window, NPS answers, referrals and loyalty tier changes.
-- Every date is at or before the as-of date, so the history rebuilds for any as-of.
{%- set churn_days = var('churn_window_days') | int %}

with as_of as (
    {{ as_of_row() }}
),

customers as (
    select
        customer_key,
        cast(first_seen_at as date) as first_seen_date
    from {{ ref('int_customer_profiles_survived') }}
),

contact_keys as (
    select * from {{ ref('int_customer_keys_of_crm_contacts') }}
),

profile_keys as (
    select * from {{ ref('int_customer_keys_of_social_profiles') }}
),

email_keys as (
    select * from {{ ref('int_customer_keys_of_emails_seen') }}
),

reached as (
    select
        coalesce(contact_keys.customer_key, email_keys.customer_key) as customer_key,
        cast(touches.occurred_at as date) as signal_date
    from {{ ref('stg_crm__campaign_touches') }} as touches
    left join contact_keys on touches.contact_id = contact_keys.record_id
    left join email_keys on touches.email = email_keys.record_id

    union all

    select
        profile_keys.customer_key,
        cast(social.occurred_at as date) as signal_date
    from {{ ref('stg_social__interactions') }} as social
    inner join profile_keys on social.profile_id = profile_keys.record_id
),

-- A lead: a CRM contact (created_at) or a shop account (created, else first order).
leads as (
    select
        keys.customer_key,
        cast(coalesce(records.first_seen_at, as_of.as_of_end) as date) as signal_date
    from {{ ref('int_identity_records_unioned') }} as records
    inner join {{ ref('int_customer_keys_by_record') }} as keys on records.record_key = keys.record_key
    cross join as_of
    where records.record_source in ('crm_contact', 'sales_customer')
),

purchases as (
    select
        customer_key,
        ordered_date as signal_date,
        count(*) as completed_orders
    from {{ ref('int_orders_enriched') }}
    where is_completed and customer_key is not null
    group by customer_key, ordered_date
),

-- The first day a purchase is older than the churn window; a later purchase resets it.
lapse_checks as (
    select
        customer_key,
        cast(signal_date + interval {{ churn_days + 1 }} day as date) as signal_date
    from purchases
),

nps_answers as (
    select
        contact_keys.customer_key,
        responses.responded_date as signal_date,
        {{ max_by('responses.nps_class', sort_key(['responses.responded_at', 'responses.response_id'])) }}
            as nps_class
    from {{ ref('stg_crm__survey_responses') }} as responses
    inner join contact_keys on responses.contact_id = contact_keys.record_id
    where responses.survey_type = 'nps'
    group by contact_keys.customer_key, responses.responded_date
),

referrals as (
    select
        profile_keys.customer_key,
        cast(social.occurred_at as date) as signal_date
    from {{ ref('stg_social__interactions') }} as social
    inner join profile_keys on social.profile_id = profile_keys.record_id
    where social.interaction_type = 'referral'
),

tiers as (
    select
        contact_keys.customer_key,
        cast(events.occurred_at as date) as signal_date,
        {{ max_by('events.tier', sort_key(['events.occurred_at', 'events.event_id'])) }} as loyalty_tier
    from {{ ref('stg_crm__loyalty_events') }} as events
    inner join contact_keys on events.contact_id = contact_keys.record_id
    where events.tier is not null
    group by contact_keys.customer_key, cast(events.occurred_at as date)
),

signals as (
    select
        customer_key,
        signal_date,
        'reach' as signal,
        cast(null as bigint) as orders,
        null as nps_class,
        null as tier
    from reached

    union all

    select
        customer_key,
        signal_date,
        'lead' as signal,
        null as orders,
        null as nps_class,
        null as tier
    from leads

    union all

    select
        customer_key,
        signal_date,
        'purchase' as signal,
        completed_orders as orders,
        null as nps_class,
        null as tier
    from purchases

    union all

    select
        customer_key,
        signal_date,
        'lapse_check' as signal,
        null as orders,
        null as nps_class,
        null as tier
    from lapse_checks

    union all

    select
        customer_key,
        signal_date,
        'nps' as signal,
        null as orders,
        nps_class,
        null as tier
    from nps_answers

    union all

    select
        customer_key,
        signal_date,
        'referral' as signal,
        null as orders,
        null as nps_class,
        null as tier
    from referrals

    union all

    select
        customer_key,
        signal_date,
        'tier' as signal,
        null as orders,
        null as nps_class,
        loyalty_tier as tier
    from tiers

    -- every customer is known from the day first seen (or as-of when no record has a date)
    union all

    select
        customers.customer_key,
        coalesce(customers.first_seen_date, as_of.as_of_date) as signal_date,
        'known' as signal,
        null as orders,
        null as nps_class,
        null as tier
    from customers
    cross join as_of
)

select
    signals.customer_key,
    signals.signal_date,
    bool_or(signals.signal = 'reach') as is_reached,
    bool_or(signals.signal = 'lead') as is_lead,
    coalesce(sum(signals.orders), 0) as completed_orders,
    bool_or(signals.signal = 'purchase') as has_purchase,
    max(signals.nps_class) as nps_class,
    bool_or(signals.signal = 'referral') as has_referral,
    max(signals.tier) as loyalty_tier
from signals
cross join as_of
where signals.customer_key is not null
    and signals.signal_date <= as_of.as_of_date
group by signals.customer_key, signals.signal_date
