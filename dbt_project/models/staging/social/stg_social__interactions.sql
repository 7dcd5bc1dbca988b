with source as (
    select * from {{ source('social', 'interactions') }}
    where {{ before_as_of('occurred_at') }}
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
    {{ normalise_email('referred_email') }} as referred_email
from latest
