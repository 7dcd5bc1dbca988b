-- Grain: one row per person record (CRM contact, sales customer) with what probabilistic
-- matching compares: names in lower case, and the email and phone only when they could
-- be keys (placeholders, junk values and values too many records hold agree between
-- strangers, so they are blanked).
-- Empty unless var probabilistic_matching is true: nothing downstream reads it then.
with records as (
    select * from {{ ref('int_identity_records_unioned') }}
),

shared_values as (
    {{ shared_identity_values('records') }}
)

select
    record_key,
    lower(trim(first_name)) as first_name,
    lower(trim(last_name)) as last_name,
    case
        when not {{ is_junk_email('email') }}
            and 'email=' || email not in (select shared_values.key_id from shared_values)
            then email
    end as email,
    case
        when not {{ is_junk_phone('phone') }}
            and 'phone=' || phone not in (select shared_values.key_id from shared_values)
            then phone
    end as phone,
    country
from records
where
    record_source in ('crm_contact', 'sales_customer')
    and {{ 'true' if probabilistic_matching() else 'false' }}
