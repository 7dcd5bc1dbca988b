with source as (
    select * from {{ source('crm', 'interactions') }}
    where {{ visible_as_of(['occurred_at', 'updated_at']) }}
),

latest as (
    {{ latest_version('source', 'interaction_id', 'updated_at') }}
),

categorised as (
    select
        interaction_id,
        contact_id,
        channel,
        lower(interaction_type) as interaction_type,
        occurred_at,
        -- A resolution after the as-of instant had not happened yet.
        case when resolved_at < {{ as_of_end() }} then resolved_at end as resolved_at,
        agent_id,
        -- Handler type: what the source says, else inferred from the channel.
        coalesce(
            handled_by,
            case
                when channel in ('phone', 'chat', 'meeting', 'in_person') then 'agent'
                when channel in ('help_center', 'faq', 'app', 'web') then 'self_service'
                when channel in ('sms', 'push') then 'automated'
                when agent_id is not null then 'agent'
                else 'automated'
            end
        ) as handler_type
    from latest
),

final as (
    select
        *,
        handler_type = 'agent' as is_human_handled,
        resolved_at is null and handler_type = 'agent' as is_open_ticket,
        cast({{ minutes_crossed('occurred_at', 'resolved_at') }} as double) / 60 as resolution_hours
    from categorised
)

select * from final
