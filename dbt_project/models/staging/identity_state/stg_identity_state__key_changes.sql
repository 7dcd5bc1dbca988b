-- Every merge and split logged so far; exposed by the mart identity_merge_log.
with key_changes as (
    select * from {{ source('identity_state', 'key_changes') }}
)

select * from key_changes
