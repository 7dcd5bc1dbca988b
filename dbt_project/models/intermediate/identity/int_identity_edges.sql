-- Record -> normalised key. Two records sharing a key are the same person (domain.md).
-- Placeholder and junk values never become keys, so they cannot link anyone. Nor does an
-- email or phone that more records of one source hold than one person plausibly has
-- (var identity_max_records_per_value: a placeholder nobody listed, `email@email.com` on
-- five strangers' contacts): its rows stay, with is_identity_key false, so a later run
-- sees when it becomes a key again. A pair the optional probabilistic layer matched
-- shares a key of type `match` (both records).
-- Incremental (macros/incremental.sql): a run rewrites the keys of the records the union
-- rebuilt since and of the records holding a value that became, or stopped being, shared
-- by too many; it deletes the keys those records no longer carry and the keys of records
-- that are gone. Probabilistic links are scored over all records every run, so with
-- matching on, every record's keys are rewritten.
{{ config(
    materialized=incremental_or_table(),
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook=["{{ delete_rows_of_records_rebuilt_in(ref('int_identity_records_unioned')) }}"],
    post_hook=["{{ delete_records_gone_from(ref('int_identity_records_unioned')) }}"],
) }}

with all_records as (
    select * from {{ ref('int_identity_records_unioned') }}
),

-- emails and phones held by more records of one source than one person plausibly has:
-- not an identity (counted over every record, so a value crossing the line is seen)
shared_values as (
    {{ shared_identity_values('all_records') }}
),

records as (
    select * from all_records
    {% if is_incremental() and not probabilistic_matching() %}
        where
            {{ loaded_since_last_build('_last_load_id') }}
            -- a record holding a value whose standing changed: shared now and a key
            -- before, or the other way round
            or record_key in (
                select built.record_key from {{ this }} as built
                left join shared_values on built.key_id = shared_values.key_id
                where built.key_type in ('email', 'phone')
                    and built.is_identity_key = (shared_values.key_id is not null)
            )
    {% endif %}
),

probabilistic_links as (
    select * from {{ ref('int_identity_probabilistic_links') }}
),

keys as (
    select
        record_key,
        'email' as key_type,
        email as key_value
    from records
    where email is not null and not {{ is_junk_email('email') }}

    union all

    select
        record_key,
        'phone' as key_type,
        phone as key_value
    from records
    where not {{ is_junk_phone('phone') }}

    -- Handles link only when the CRM lists them on the contact.
    union all

    select
        record_key,
        'handle' as key_type,
        'twitter:' || twitter_handle as key_value
    from records
    where twitter_handle is not null

    union all

    select
        record_key,
        'handle' as key_type,
        'instagram:' || instagram_handle as key_value
    from records
    where instagram_handle is not null

    union all

    select
        record_key,
        'handle' as key_type,
        'facebook:' || facebook_handle as key_value
    from records
    where facebook_handle is not null

    union all

    select
        record_key,
        'handle' as key_type,
        social_platform || ':' || social_handle as key_value
    from records
    where social_handle is not null

    union all

    select
        record_key_l as record_key,
        'match' as key_type,
        record_key_l || '~' || record_key_r as key_value
    from probabilistic_links

    union all

    select
        record_key_r as record_key,
        'match' as key_type,
        record_key_l || '~' || record_key_r as key_value
    from probabilistic_links
)

select distinct
    keys.record_key,
    keys.key_type,
    keys.key_value,
    keys.key_type || '=' || keys.key_value as key_id,
    shared_values.key_id is null as is_identity_key,
    {{ newest_load_id() }} as _last_load_id
from keys
left join shared_values on keys.key_type || '=' || keys.key_value = shared_values.key_id
