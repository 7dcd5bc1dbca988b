-- Grain: one row per brand post: interactions by type, reach in distinct profiles and
-- average sentiment of the texts that reacted to it.
with posts as (
    select * from {{ ref('stg_social__brand_posts') }}
),

interactions as (
    select * from {{ ref('fct_social_interactions') }}
)

select
    posts.post_id,
    posts.platform,
    posts.posted_at,
    posts.campaign_id,
    count(interactions.interaction_id) as interactions,
    count(distinct interactions.profile_id) as engaged_profiles,
    count(*) filter (where interactions.interaction_type = 'like') as likes,
    count(*) filter (where interactions.interaction_type = 'comment') as comments,
    count(*) filter (where interactions.interaction_type = 'share') as shares,
    count(*) filter (where interactions.interaction_type = 'mention') as mentions,
    cast(avg(interactions.sentiment_score) as decimal(5, 4)) as avg_sentiment,
    {{ as_of_date() }} as as_of_date
from posts
left join interactions on posts.post_id = interactions.post_id
group by posts.post_id, posts.platform, posts.posted_at, posts.campaign_id
