-- Kept as a table, not a view: every reader (models and tests) would otherwise pick the
-- latest version of every event again. Incremental (macros/incremental.sql): a run
-- re-derives the latest version of the keys with a raw row loaded since, from all their
-- versions.
{{ config(
    materialized=incremental_or_table(),
    unique_key='touch_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as (
    select * from {{ source('crm', 'campaign_touches') }}
    where {{ before_as_of('occurred_at') }}
        {% if is_incremental() %}
            and {{ key_loaded_since_last_build(source('crm', 'campaign_touches'), 'touch_id') }}
        {% endif %}
),

latest as (
    {{ latest_version('source', 'touch_id') }}
),

renamed as (
    select
        touch_id,
        touch_type,
        occurred_at,
        contact_id,
        {{ normalise_email('email') }} as email,
        campaign_id,
        lower(channel) as channel,
        touch_type in ('recommendation_click', 'triggered_message') as is_automated_personalised,
        {{ newest_load_id() }} as _last_load_id
    from latest
)

select * from renamed
