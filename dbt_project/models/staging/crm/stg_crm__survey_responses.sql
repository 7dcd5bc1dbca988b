-- Kept as a table, not a view: every reader (models and tests) would otherwise pick the
-- latest version of every event again. Incremental (macros/incremental.sql): a run
-- re-derives the latest version of the keys with a raw row loaded since, from all their
-- versions.
{{ config(
    materialized=incremental_or_table(),
    unique_key='response_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as (
    select * from {{ source('crm', 'survey_responses') }}
    where {{ before_as_of('responded_at') }}
        {% if is_incremental() %}
            and {{ key_loaded_since_last_build(source('crm', 'survey_responses'), 'response_id') }}
        {% endif %}
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
        case when survey_type = 'csat' then score >= 4 end as is_csat_satisfied,
        {{ newest_load_id() }} as _last_load_id
    from latest
)

select * from classified
