-- One row per customer_key: best profile values by survivorship. For each attribute the
-- most trusted source wins (CRM contact, then sales customer, then social profile, then an
-- email seen on a touch), and within a source the most recently updated record.
--
-- The preference is ranked once per customer with a window (a sort, which DuckDB spills
-- to disk), so each attribute is an arg_min over an integer: at 10M order lines an
-- arg_min per attribute over a struct key, and a distinct list, held more than the 2 GB
-- limit in memory.
--
-- Incremental (macros/incremental.sql): a run re-derives the customers holding a record
-- whose key int_customer_keys_by_record assigned since (every record of a component it
-- rewrote: new, changed, merged, split or gone); keys retired by a merge go.
{{ config(
    materialized=incremental_or_table(),
    unique_key='customer_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=["{{ delete_retired_customer_keys(ref('int_customer_keys_by_record')) }}"],
) }}

with records as (
    select * from {{ ref('int_identity_records_unioned') }}
),

all_components as (
    select * from {{ ref('int_customer_keys_by_record') }}
),

{% if is_incremental() %}
    changed_customers as (
        select distinct customer_key from all_components
        where {{ loaded_since_last_build('_last_load_id') }}
    ),

    components as (
        select all_components.* from all_components
        inner join changed_customers on all_components.customer_key = changed_customers.customer_key
    ),
{% else %}
    components as (
        select * from all_components
    ),
{% endif %}

ranked as (
    select
        components.customer_key,
        records.*,
        row_number() over (
            partition by components.customer_key
            order by
                case records.record_source
                    when 'crm_contact' then 1
                    when 'sales_customer' then 2
                    when 'social_profile' then 3
                    else 4
                end,
                coalesce(records.updated_at, records.first_seen_at, timestamp '1970-01-01') desc,
                records.record_id
        ) as preference
    from records
    inner join components on records.record_key = components.record_key
)

select
    customer_key,
    {{ min_by('first_name', 'preference') }} filter (where first_name is not null) as first_name,
    {{ min_by('last_name', 'preference') }} filter (where last_name is not null) as last_name,
    {{ min_by('email', 'preference') }} filter (
        where email is not null and not {{ is_junk_email('email') }}
    ) as email,
    {{ min_by('phone', 'preference') }} filter (where not {{ is_junk_phone('phone') }}) as phone,
    {{ min_by('country', 'preference') }} filter (where country is not null) as country,
    min(first_seen_at) as first_seen_at,
    -- the sources in alphabetical order
    {{ non_null_list([
        "case when bool_or(record_source = 'crm_contact') then 'crm_contact' end",
        "case when bool_or(record_source = 'email_seen') then 'email_seen' end",
        "case when bool_or(record_source = 'sales_customer') then 'sales_customer' end",
        "case when bool_or(record_source = 'social_profile') then 'social_profile' end",
    ]) }} as sources_seen_in,
    count(*) as source_records,
    bool_or(record_source = 'crm_contact') as has_crm_contact,
    bool_or(record_source = 'sales_customer') as has_sales_account,
    bool_or(record_source = 'social_profile') as has_social_profile,
    {{ newest_load_id() }} as _last_load_id
from ranked
group by customer_key
