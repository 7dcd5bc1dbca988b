-- One row per customer_key reached by campaigns: touches by type (contact id or email).
with touches as (
    select * from {{ ref('stg_crm__campaign_touches') }}
),

keys as (
    select
        record_source,
        record_id,
        customer_key
    from {{ ref('int_customer_keys_by_record') }}
    where record_source in ('crm_contact', 'email_seen')
),

keyed as (
    select
        coalesce(by_contact.customer_key, by_email.customer_key) as customer_key,
        touches.*
    from touches
    left join keys as by_contact
        on by_contact.record_source = 'crm_contact' and touches.contact_id = by_contact.record_id
    left join keys as by_email
        on by_email.record_source = 'email_seen' and touches.email = by_email.record_id
)

select
    customer_key,
    count(*) as campaign_touches,
    min(occurred_at) as first_touch_at,
    count(*) filter (
        where is_automated_personalised
        and occurred_at >= {{ as_of_end() }} - interval {{ var('relationship_lookback_days') }} day
    ) as recent_automated_touches,
    count(*) filter (
        where touch_type in ('open', 'click', 'recommendation_click', 'triggered_message')
        and occurred_at >= {{ as_of_end() }} - interval {{ var('relationship_lookback_days') }} day
    ) as recent_engaged_touches
from keyed
where customer_key is not null
group by customer_key
