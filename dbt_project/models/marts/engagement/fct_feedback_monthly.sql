-- Grain: one row per month x breakdown x breakdown_value, where breakdown is `all`,
-- `lifecycle_stage` (at the answer) or `rfm_segment`. NPS = % promoters - % detractors
-- over each customer's latest NPS answer in the month; CSAT = share of 4-5 answers.
with responses as (
    select * from {{ ref('fct_survey_responses') }}
),

latest_nps as (
    select
        response_month,
        customer_key,
        {{ max_by('nps_class', sort_key(['responded_at', 'response_id'])) }} as nps_class,
        {{ max_by('lifecycle_stage_at_response', sort_key(['responded_at', 'response_id'])) }} as lifecycle_stage,
        any_value(rfm_segment) as rfm_segment
    from responses
    where survey_type = 'nps'
    group by response_month, customer_key
),

nps_breakdowns as (
    select
        response_month,
        'all' as breakdown,
        'all' as breakdown_value,
        nps_class
    from latest_nps

    union all

    select
        response_month,
        'lifecycle_stage' as breakdown,
        lifecycle_stage as breakdown_value,
        nps_class
    from latest_nps

    union all

    select
        response_month,
        'rfm_segment' as breakdown,
        rfm_segment as breakdown_value,
        nps_class
    from latest_nps
),

csat_breakdowns as (
    select
        response_month,
        'all' as breakdown,
        'all' as breakdown_value,
        is_csat_satisfied
    from responses
    where survey_type = 'csat'

    union all

    select
        response_month,
        'lifecycle_stage' as breakdown,
        lifecycle_stage_at_response as breakdown_value,
        is_csat_satisfied
    from responses
    where survey_type = 'csat'

    union all

    select
        response_month,
        'rfm_segment' as breakdown,
        rfm_segment as breakdown_value,
        is_csat_satisfied
    from responses
    where survey_type = 'csat'
),

nps as (
    select
        response_month,
        breakdown,
        breakdown_value,
        count(*) as nps_respondents,
        count(*) filter (where nps_class = 'promoter') as promoters,
        count(*) filter (where nps_class = 'passive') as passives,
        count(*) filter (where nps_class = 'detractor') as detractors
    from nps_breakdowns
    group by all
),

csat as (
    select
        response_month,
        breakdown,
        breakdown_value,
        count(*) as csat_responses,
        count(*) filter (where is_csat_satisfied) as csat_satisfied
    from csat_breakdowns
    group by all
)

select
    coalesce(nps.response_month, csat.response_month) as response_month,
    coalesce(nps.breakdown, csat.breakdown) as breakdown,
    coalesce(nps.breakdown_value, csat.breakdown_value) as breakdown_value,
    coalesce(nps.nps_respondents, 0) as nps_respondents,
    coalesce(nps.promoters, 0) as promoters,
    coalesce(nps.passives, 0) as passives,
    coalesce(nps.detractors, 0) as detractors,
    case when nps.nps_respondents > 0
            then round(100.0 * (nps.promoters - nps.detractors) / nps.nps_respondents, 2)
    end as nps,
    coalesce(csat.csat_responses, 0) as csat_responses,
    case when csat.csat_responses > 0 then csat.csat_satisfied / csat.csat_responses end as csat,
    {{ as_of_date() }} as as_of_date
from nps
full outer join csat
    on nps.response_month = csat.response_month
        and nps.breakdown = csat.breakdown
        and nps.breakdown_value = csat.breakdown_value
