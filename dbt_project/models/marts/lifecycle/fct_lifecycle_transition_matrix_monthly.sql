-- Grain: one row per month x from_stage x to_stage with at least one transition: the
-- stage-to-stage transition matrix by month, with the median days spent in from_stage.
select
    transition_month,
    from_stage,
    to_stage,
    count(*) as transitions,
    count(distinct customer_key) as customers,
    {{ quantile_cont('days_in_previous_stage', 0.5) }} as median_days_in_from_stage,
    {{ as_of_date() }} as as_of_date
from {{ ref('fct_lifecycle_transitions') }}
group by transition_month, from_stage, to_stage
