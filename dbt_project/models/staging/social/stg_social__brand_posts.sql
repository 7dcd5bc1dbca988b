with source as (
    select * from {{ source('social', 'brand_posts') }}
    where {{ before_as_of('posted_at') }}
),

latest as (
    {{ latest_version('source', 'post_id') }}
)

select
    post_id,
    lower(platform) as platform,
    posted_at,
    text,
    campaign_id
from latest
