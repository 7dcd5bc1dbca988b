-- One row per customer_key: best profile values by survivorship. For each attribute the
-- most trusted source wins (CRM contact, then sales customer, then social profile, then an
-- email seen on a touch), and within a source the most recently updated record.
with records as (
    select * from {{ ref('int_identity_records_unioned') }}
),

components as (
    select * from {{ ref('int_customer_keys_by_record') }}
),

ranked as (
    select
        components.customer_key,
        records.*,
        case records.record_source
            when 'crm_contact' then 1
            when 'sales_customer' then 2
            when 'social_profile' then 3
            else 4
        end as trust_rank,
        coalesce(records.updated_at, records.first_seen_at) as recency_at
    from records
    inner join components on records.record_key = components.record_key
)

select
    customer_key,
    arg_min(
        first_name,
        struct_pack(t := trust_rank, r := -epoch(coalesce(recency_at, timestamp '1970-01-01')), id := record_id)
    ) filter (where first_name is not null) as first_name,
    arg_min(
        last_name,
        struct_pack(t := trust_rank, r := -epoch(coalesce(recency_at, timestamp '1970-01-01')), id := record_id)
    ) filter (where last_name is not null) as last_name,
    arg_min(
        email, struct_pack(t := trust_rank, r := -epoch(coalesce(recency_at, timestamp '1970-01-01')), id := record_id)
    ) filter (where email is not null and not {{ is_junk_email('email') }}) as email,
    arg_min(
        phone, struct_pack(t := trust_rank, r := -epoch(coalesce(recency_at, timestamp '1970-01-01')), id := record_id)
    ) filter (where not {{ is_junk_phone('phone') }}) as phone,
    arg_min(
        country,
        struct_pack(t := trust_rank, r := -epoch(coalesce(recency_at, timestamp '1970-01-01')), id := record_id)
    ) filter (where country is not null) as country,
    min(first_seen_at) as first_seen_at,
    list_sort(list(distinct record_source)) as sources_seen_in,
    count(*) as source_records,
    bool_or(record_source = 'crm_contact') as has_crm_contact,
    bool_or(record_source = 'sales_customer') as has_sales_account,
    bool_or(record_source = 'social_profile') as has_social_profile
from ranked
group by customer_key
