-- Why each record belongs to its customer: the key types it shares with other records of
-- the same component ("unlinked" for a customer of one record). No as-of date in the rows:
-- the map is kept (macros/incremental.sql), a run rewriting the records whose key
-- int_customer_keys_by_record assigned since (every record of a component it rewrote,
-- so a key newly shared is seen on both sides) and deleting the records gone.
{{ config(
    materialized=incremental_or_table(),
    unique_key=['record_source', 'record_id'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=["{{ delete_map_records_gone_from(ref('int_customer_keys_by_record')) }}"],
) }}

with components as (
    select * from {{ ref('int_customer_keys_by_record') }}
    {% if is_incremental() %}
        where {{ loaded_since_last_build('_last_load_id') }}
    {% endif %}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
    where is_identity_key
),

probabilistic_links as (
    select * from {{ ref('int_identity_probabilistic_links') }}
),

-- the strongest probabilistic link of each record (null when it has none)
match_weights as (
    select
        record_key,
        max(match_weight) as match_weight
    from (
        select
            record_key_l as record_key,
            match_weight
        from probabilistic_links
        union all
        select
            record_key_r as record_key,
            match_weight
        from probabilistic_links
    ) as linked_records
    group by record_key
),

shared_keys as (
    select key_id
    from edges
    group by key_id
    having count(*) > 1
),

-- The key types in alphabetical order. bool_or per type, not an ordered distinct
-- string_agg: DuckDB keeps every group of an ordered aggregate in memory, and at 10M order
-- lines that ran out of the 2 GB limit. The types are the four int_identity_edges emits
-- (its accepted_values test fails when another appears).
links as (
    select
        edges.record_key,
        concat_ws(
            ',',
            case when bool_or(edges.key_type = 'email') then 'email' end,
            case when bool_or(edges.key_type = 'handle') then 'handle' end,
            case when bool_or(edges.key_type = 'match') then 'match' end,
            case when bool_or(edges.key_type = 'phone') then 'phone' end
        ) as linked_by,
        count(*) as shared_key_count
    from edges
    inner join shared_keys on edges.key_id = shared_keys.key_id
    group by edges.record_key
),

final as (
    select
        components.record_source,
        components.record_id,
        components.customer_key,
        components.key_origin_record,
        coalesce(links.linked_by, 'unlinked') as linked_by,
        coalesce(links.shared_key_count, 0) as shared_key_count,
        match_weights.match_weight,
        components.component_size,
        components.is_component_oversized,
        {{ newest_load_id() }} as _last_load_id
    from components
    left join links on components.record_key = links.record_key
    left join match_weights on components.record_key = match_weights.record_key
)

select * from final
