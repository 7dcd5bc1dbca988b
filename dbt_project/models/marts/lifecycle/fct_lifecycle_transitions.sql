-- Grain: one row per stage change of a customer (the first stage entered is not a
-- transition). days_in_previous_stage answers "how long does acquisition -> conversion take".
with history as (
    select * from {{ ref('fct_customer_lifecycle_history') }}
),

with_previous as (
    select
        customer_key,
        previous_stage as from_stage,
        lifecycle_stage as to_stage,
        valid_from as transitioned_on,
        lag(valid_from) over (partition by customer_key order by valid_from) as previous_stage_from
    from history
)

select
    customer_key,
    from_stage,
    to_stage,
    transitioned_on,
    {{ dbt.date_trunc('month', 'transitioned_on') }} as transition_month,
    {{ dbt.datediff('previous_stage_from', 'transitioned_on', 'day') }} as days_in_previous_stage
from with_previous
where from_stage is not null
