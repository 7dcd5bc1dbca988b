with source as (
    select * from {{ source('social', 'profiles') }}
    where {{ visible_as_of(['updated_at']) }}
),

latest as (
    {{ latest_version('source', 'profile_id', 'updated_at') }}
)

select
    profile_id,
    lower(platform) as platform,
    {{ normalise_handle('handle') }} as handle,
    {{ normalise_email('email') }} as email,
    followers,
    display_name
from latest
