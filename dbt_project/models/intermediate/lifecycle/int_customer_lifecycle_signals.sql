-- One row per customer per day on which something that can move the lifecycle stage
-- happened (domain.md): first reach, becoming a lead, completed purchases, a purchase
-- ageing past the churn window, NPS answers, referrals and loyalty tier changes. A lapse
-- check can lie after the as-of date (a churn window after the last purchase): the
-- history reads the signals up to its as-of date, so it rebuilds for any as-of.
-- Incremental (macros/incremental.sql): a run re-derives the signals of the customers
-- something reached since (touched_customers below); keys retired by a merge go.
{{ config(
    materialized=incremental_or_table(),
    unique_key='customer_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=["{{ delete_retired_customer_keys(ref('int_customer_keys_by_record')) }}"],
) }}
-- depends_on: {{ ref('int_customer_keys_of_sales_customers') }}
{%- set churn_days = var('churn_window_days') | int %}

with as_of as (
    {{ as_of_row() }}
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

{% if is_incremental() %}
    -- identity records rebuilt since (new, changed, merged or split): the customers
    -- they belong to now and belonged to before
    rebuilt_records as (
        select
            record_source,
            record_id,
            customer_key,
            previous_customer_key
        from {{ ref('int_customer_keys_by_record') }}
        where {{ loaded_since_last_build('_last_load_id') }}
    ),

    -- every version of the events with a version loaded since: a corrected event moves
    -- the signals of the person it named before as well as of the one it names now
    touch_versions as (
        select
            contact_id,
            {{ normalise_email('email') }} as email
        from {{ source('crm', 'campaign_touches') }}
        where {{ key_loaded_since_last_build(source('crm', 'campaign_touches'), 'touch_id') }}
    ),

    social_versions as (
        select profile_id from {{ source('social', 'interactions') }}
        where {{ key_loaded_since_last_build(source('social', 'interactions'), 'interaction_id') }}
    ),

    response_versions as (
        select contact_id from {{ source('crm', 'survey_responses') }}
        where {{ key_loaded_since_last_build(source('crm', 'survey_responses'), 'response_id') }}
    ),

    loyalty_versions as (
        select contact_id from {{ source('crm', 'loyalty_events') }}
        where {{ key_loaded_since_last_build(source('crm', 'loyalty_events'), 'event_id') }}
    ),

    order_versions as (
        select nullif(trim(customer_id), '') as customer_id from {{ source('sales', 'orders') }}
        where {{ key_loaded_since_last_build(source('sales', 'orders'), 'order_id') }}
    ),

    touched_customers as (
        select customer_key from rebuilt_records
        union
        select previous_customer_key from rebuilt_records
        where previous_customer_key is not null
        union
        select contact_keys.customer_key from touch_versions
        inner join contact_keys on touch_versions.contact_id = contact_keys.record_id
        union
        select email_keys.customer_key from touch_versions
        inner join email_keys on touch_versions.email = email_keys.record_id
        union
        -- a touch reaches its contact's customer once the contact is known, else its
        -- email's: a contact arriving after its touches takes them from the email's
        select email_keys.customer_key from {{ ref('stg_crm__campaign_touches') }} as touches
        inner join rebuilt_records
            on rebuilt_records.record_source = 'crm_contact'
                and touches.contact_id = rebuilt_records.record_id
        inner join email_keys on touches.email = email_keys.record_id
        union
        select profile_keys.customer_key from social_versions
        inner join profile_keys on social_versions.profile_id = profile_keys.record_id
        union
        select contact_keys.customer_key from response_versions
        inner join contact_keys on response_versions.contact_id = contact_keys.record_id
        union
        select contact_keys.customer_key from loyalty_versions
        inner join contact_keys on loyalty_versions.contact_id = contact_keys.record_id
        union
        select sales_keys.customer_key from order_versions
        inner join {{ ref('int_customer_keys_of_sales_customers') }} as sales_keys
            on order_versions.customer_id = sales_keys.record_id
        union
        -- orders rebuilt for any other reason (changed lines, the lookback window)
        select customer_key from {{ ref('int_orders_enriched') }}
        where {{ loaded_since_last_build('_last_load_id') }} and customer_key is not null
        union
        -- a record without any date is a lead and known on the as-of date, which moves
        select keys.customer_key from {{ ref('int_identity_records_unioned') }} as records
        inner join {{ ref('int_customer_keys_by_record') }} as keys
            on records.record_key = keys.record_key
        where records.first_seen_at is null
    ),
{% endif %}

customers as (
    select
        customer_key,
        cast(first_seen_at as date) as first_seen_date
    from {{ ref('int_customer_profiles_survived') }}
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
    max(signals.tier) as loyalty_tier,
    {{ newest_load_id() }} as _last_load_id
from signals
where signals.customer_key is not null
    {% if is_incremental() %}
        and signals.customer_key in (select touched_customers.customer_key from touched_customers)
    {% endif %}
group by signals.customer_key, signals.signal_date
