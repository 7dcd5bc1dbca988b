-- NPS is a difference of percentages: in [-100, 100]; classes add up to respondents.
select
    response_month,
    breakdown,
    breakdown_value,
    nps
from {{ ref('fct_feedback_monthly') }}
where nps < -100 or nps > 100
    or promoters + passives + detractors <> nps_respondents
