-- One row per customer_key with survey answers: latest NPS, average CSAT.
with responses as (
    select * from {{ ref('stg_crm__survey_responses') }}
),

keys as (
    select * from {{ ref('int_customer_keys_of_crm_contacts') }}
),

keyed as (
    select
        keys.customer_key,
        responses.*
    from responses
    inner join keys on responses.contact_id = keys.record_id
)

select
    customer_key,
    {{ max_by('score', sort_key(['responded_at', 'response_id'])) }} filter (where survey_type = 'nps')
        as latest_nps_score,
    {{ max_by('nps_class', sort_key(['responded_at', 'response_id'])) }} filter (where survey_type = 'nps')
        as latest_nps_class,
    max(responded_at) filter (where survey_type = 'nps') as latest_nps_at,
    avg(score) filter (where survey_type = 'csat') as avg_csat_score,
    avg(case when is_csat_satisfied then 1.0 else 0.0 end) filter (where survey_type = 'csat') as csat_satisfied_share,
    count(*) as survey_responses
from keyed
group by customer_key
