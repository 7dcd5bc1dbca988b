-- One row per customer_key with CRM interactions: volume by handler type and resolution.
with interactions as (
    select * from {{ ref('stg_crm__interactions') }}
),

keys as (
    select * from {{ ref('int_customer_keys_of_crm_contacts') }}
),

keyed as (
    select
        keys.customer_key,
        interactions.*
    from interactions
    inner join keys on interactions.contact_id = keys.record_id
)

select
    customer_key,
    count(*) as interactions,
    count(*) filter (where handler_type = 'agent') as human_interactions,
    count(*) filter (where handler_type = 'self_service') as self_service_interactions,
    count(*) filter (where handler_type = 'automated') as automated_interactions,
    count(*) filter (where handler_type = 'self_service') / count(*) as share_self_service,
    count(*) filter (where handler_type = 'automated') / count(*) as share_automated,
    count(*) filter (where handler_type = 'agent') / count(*) as share_human,
    count(*) filter (where is_open_ticket) as open_tickets,
    {{ quantile_cont('resolution_hours', 0.5) }} as median_resolution_hours,
    -- The relationship-type window (relationship_lookback_days before as-of).
    count(*) filter (
        where occurred_at >= {{ as_of_end() }} - interval {{ var('relationship_lookback_days') }} day
    )
        as recent_interactions,
    count(*) filter (
        where handler_type = 'agent'
        and occurred_at >= {{ as_of_end() }} - interval {{ var('relationship_lookback_days') }} day
    )
        as recent_human_interactions,
    count(*) filter (
        where handler_type = 'self_service'
        and occurred_at >= {{ as_of_end() }} - interval {{ var('relationship_lookback_days') }} day
    ) as recent_self_service_interactions,
    count(*) filter (
        where handler_type = 'automated'
        and occurred_at >= {{ as_of_end() }} - interval {{ var('relationship_lookback_days') }} day
    ) as recent_automated_interactions,
    max(occurred_at) as last_interaction_at
from keyed
group by customer_key
