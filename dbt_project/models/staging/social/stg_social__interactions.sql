-- Kept as a table, not a view: every reader (models and tests) would otherwise pick the
-- latest version of every event again. Incremental (macros/incremental.sql): a run
-- re-derives the latest version of the keys with a raw row loaded since, from all their
-- versions.
{{ config(
    materialized=incremental_or_table(),
    unique_key='interaction_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as (
    select * from {{ source('social', 'interactions') }}
    where {{ before_as_of('occurred_at') }}
        {% if is_incremental() %}
            and {{ key_loaded_since_last_build(source('social', 'interactions'), 'interaction_id') }}
        {% endif %}
),

latest as (
    {{ latest_version('source', 'interaction_id') }}
)

select
    interaction_id,
    profile_id,
    interaction_type,
    occurred_at,
    nullif(trim(text), '') as text,
    post_id,
    {{ normalise_email('referred_email') }} as referred_email,
    {{ newest_load_id() }} as _last_load_id
from latest
