with source as (
    select * from {{ source('crm', 'survey_responses') }}
    where {{ before_as_of('responded_at') }}
),

latest as (
    {{ latest_version('source', 'response_id') }}
),

classified as (
    select
        response_id,
        contact_id,
        survey_type,
        score,
        responded_at,
        cast(responded_at as date) as responded_date,
        case
            when survey_type = 'nps' and score >= 9 then 'promoter'
            when survey_type = 'nps' and score >= 7 then 'passive'
            when survey_type = 'nps' then 'detractor'
        end as nps_class,
        case when survey_type = 'csat' then score >= 4 end as is_csat_satisfied
    from latest
)

select * from classified
