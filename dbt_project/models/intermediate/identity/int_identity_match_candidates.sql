-- Grain: one row per person record (CRM contact, sales customer) with what probabilistic
-- matching compares: names in lower case, and the email and phone only when they could
-- be keys (placeholders and junk values agree between strangers, so they are blanked).
-- Empty unless var probabilistic_matching is true: nothing downstream reads it then.
select
    record_key,
    lower(trim(first_name)) as first_name,
    lower(trim(last_name)) as last_name,
    case when not {{ is_junk_email('email') }} then email end as email,
    case when not {{ is_junk_phone('phone') }} then phone end as phone,
    country
from {{ ref('int_identity_records_unioned') }}
where
    record_source in ('crm_contact', 'sales_customer')
    and {{ 'true' if probabilistic_matching() else 'false' }}
