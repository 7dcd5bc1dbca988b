-- One row per social interaction with its VADER compound sentiment (-1..1), computed once
-- per distinct text. Incremental (macros/incremental.sql): a run scores only the
-- interactions loaded since, plus the lookback window.
{{ config(
    materialized=incremental_or_table(),
    unique_key='interaction_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with all_interactions as (
    -- the staged rows' own load id stays behind: this model writes its own
    select {{ star_except(['_last_load_id']) }} from {{ ref('stg_social__interactions') }}
),

{% if is_incremental() %}
    changed_interactions as (
        select interaction_id from {{ source('social', 'interactions') }}
        where {{ loaded_since_last_build() }}
        union
        select interaction_id from {{ this }}
        where {{ within_lookback('occurred_at') }}
    ),

    interactions as (
        select all_interactions.* from all_interactions
        inner join changed_interactions
            on all_interactions.interaction_id = changed_interactions.interaction_id
    ),
{% else %}
    interactions as (
        select * from all_interactions
    ),
{% endif %}

texts as (
    select distinct text from interactions
    where text is not null
),

scored_texts as (
    -- VADER's compound score has four decimals; a decimal keeps sums and averages exact,
    -- so reruns give identical figures whatever order rows are aggregated in.
    select
        text,
        cast({{ sentiment('text') }} as decimal(5, 4)) as sentiment_score
    from texts
)

select
    interactions.*,
    scored_texts.sentiment_score,
    case
        when scored_texts.sentiment_score >= 0.05 then 'positive'
        when scored_texts.sentiment_score <= -0.05 then 'negative'
        when scored_texts.sentiment_score is not null then 'neutral'
    end as sentiment_label,
    {{ newest_load_id() }} as _last_load_id
from interactions
left join scored_texts on interactions.text = scored_texts.text
