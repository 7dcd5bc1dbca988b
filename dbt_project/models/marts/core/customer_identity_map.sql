-- Why each record belongs to its customer: the key types it shares with other records of
-- the same component ("unlinked" for a customer of one record).
with components as (
    select * from {{ ref('int_customer_keys_by_record') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

shared_keys as (
    select key_id
    from edges
    group by key_id
    having count(*) > 1
),

links as (
    select
        edges.record_key,
        string_agg(distinct edges.key_type, ',' order by edges.key_type) as linked_by,
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
        components.component_size,
        components.is_component_oversized,
        {{ as_of_date() }} as as_of_date
    from components
    left join links on components.record_key = links.record_key
)

select * from final
