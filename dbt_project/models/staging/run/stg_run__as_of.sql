-- One row: the as-of date of this build. C360_AS_OF (YYYY-MM-DD) when set, otherwise the
-- date of the latest event in the data, so reruns on the same data are reproducible (the
-- wall clock never enters a figure).
with event_times as (
    select max(ordered_at) as event_at from {{ source('raw', 'sales__orders') }}
    union all select max(occurred_at) from {{ source('raw', 'crm__interactions') }}
    union all select max(responded_at) from {{ source('raw', 'crm__survey_responses') }}
    union all select max(occurred_at) from {{ source('raw', 'crm__loyalty_events') }}
    union all select max(occurred_at) from {{ source('raw', 'crm__campaign_touches') }}
    union all select max(created_at) from {{ source('raw', 'crm__contacts') }}
    union all select max(occurred_at) from {{ source('raw', 'social__interactions') }}
    -- corrections count as events: a refund recorded later is part of the latest state
    union all select max(updated_at) from {{ source('raw', 'sales__orders') }}
    union all select max(updated_at) from {{ source('raw', 'crm__contacts') }}
    union all select max(updated_at) from {{ source('raw', 'sales__customers') }}
),

as_of as (
    select
        coalesce(
            try_cast(nullif('{{ env_var("C360_AS_OF", "") }}', '') as date),
            cast(max(event_at) as date),
            current_date
        ) as as_of_date
    from event_times
)

select
    as_of_date,
    cast(as_of_date + interval 1 day as timestamp) as as_of_end
from as_of
