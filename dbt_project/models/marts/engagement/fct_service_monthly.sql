-- Grain: one row per month x channel x handler type: service interactions, resolved,
-- open tickets and median resolution hours.
select
    {{ dbt.date_trunc('month', 'occurred_at') }} as interaction_month,
    channel,
    handler_type,
    count(*) as interactions,
    count(resolved_at) as resolved_interactions,
    count(*) filter (where is_open_ticket) as open_tickets,
    {{ quantile_cont('resolution_hours', 0.5) }} as median_resolution_hours,
    {{ as_of_date() }} as as_of_date
from {{ ref('stg_crm__interactions') }}
group by all
