-- Stable customer keys. Every source record gets the customer_key of its identity
-- component, remembering the keys of the previous run (identity_state.customer_keys):
--   * a key belongs to its origin record (the record it was first named after) and is
--     kept by whichever component now holds that record, so unrelated data and new
--     records joining a customer never rename it;
--   * when components merge, the key whose origin record is earliest survives and the
--     others retire (logged as `merged`);
--   * a component holding no previous key's origin (a new customer, or the part of a
--     split that lost the origin) is named after its earliest record: 'cus_' + md5.
-- The post-hooks log key changes and save the new assignment, except in as-of runs,
-- which read the saved keys but never rewrite them (a backtest must not disturb the
-- live identity history).
-- Incremental (macros/incremental.sql): only the components int_identity_components
-- rewrote since are assigned again. Every record that ever carried one of their keys is
-- in them (a key lives in one component), so the rest keep their keys unread.
{{ config(
    materialized=incremental_or_table(),
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ delete_records_gone_from(ref('int_identity_components')) }}",
        "{{ record_identity_changes() }}",
    ],
) }}

with components as (
    select * from {{ ref('int_identity_components') }}
    {% if is_incremental() %}
        where {{ loaded_since_last_build('_last_load_id') }}
    {% endif %}
),

previous_keys as (
    select
        record_key,
        customer_key,
        key_origin_record
    from {{ ref('stg_identity_state__customer_keys') }}
),

-- A previous key is a candidate only for the component that now holds its origin record
-- and at least one record that carried it.
candidate_keys as (
    select distinct
        components.component_label,
        previous_keys.customer_key,
        previous_keys.key_origin_record,
        origins.rank_label as origin_rank
    from previous_keys
    inner join components on previous_keys.record_key = components.record_key
    inner join components as origins
        on previous_keys.key_origin_record = origins.record_key
            and components.component_label = origins.component_label
),

surviving_keys as (
    select
        component_label,
        {{ min_by('customer_key', 'origin_rank') }} as customer_key,
        {{ min_by('key_origin_record', 'origin_rank') }} as key_origin_record
    from candidate_keys
    group by component_label
),

assigned as (
    select
        components.record_key,
        components.record_source,
        components.record_id,
        components.component_label,
        components.component_size,
        components.is_component_oversized,
        coalesce(surviving_keys.customer_key, 'cus_' || left(md5(components.component_first_record), 16))
            as customer_key,
        coalesce(surviving_keys.key_origin_record, components.component_first_record) as key_origin_record,
        previous_keys.customer_key as previous_customer_key
    from components
    left join surviving_keys on components.component_label = surviving_keys.component_label
    left join previous_keys on components.record_key = previous_keys.record_key
),

keys_in_use as (
    select distinct customer_key from assigned
)

select
    assigned.*,
    {{ newest_load_id() }} as _last_load_id,
    '{{ invocation_id }}' as _invocation_id,
    case
        when assigned.previous_customer_key is null then 'new'
        when assigned.previous_customer_key = assigned.customer_key then 'kept'
        -- the old key lives on elsewhere: these records split away from it
        when keys_in_use.customer_key is not null then 'split'
        else 'merged'
    end as key_change
from assigned
left join keys_in_use on assigned.previous_customer_key = keys_in_use.customer_key
