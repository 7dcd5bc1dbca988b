-- One row per social interaction with its VADER compound sentiment (-1..1), computed once
-- per distinct text.
with interactions as (
    select * from {{ ref('stg_social__interactions') }}
),

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
    end as sentiment_label
from interactions
left join scored_texts on interactions.text = scored_texts.text
