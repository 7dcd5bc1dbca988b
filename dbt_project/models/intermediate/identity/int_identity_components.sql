-- Connected components of the record-key graph by minimum-label propagation, unrolled
-- into a fixed number of steps so it is plain SQL on any engine (no recursion). Each
-- record starts with its own rank (by first seen, source, id); every step hands each
-- record the smallest label among records sharing a key with it. The smallest label in
-- a component is its earliest record, which names the customer_key: keys stay stable
-- when unrelated data arrives, and when components merge the earlier record wins.
-- The singular test identity_labels_converged fails if more steps were needed.
{%- set steps = var('identity_max_iterations') | int %}

with records as (
    select
        record_key,
        record_source,
        record_id,
        coalesce({{ format_time('first_seen_at', '%Y%m%d%H%M%S') }}, '99999999999999')
        || '|' || record_source || '|' || record_id as rank_label
    from {{ ref('int_identity_records_unioned') }}
),

-- Records and keys numbered, so every propagation step joins and groups integers rather
-- than long strings (3-4x faster). record_rank follows rank_label: the smallest rank in a
-- component is still its earliest record.
ranked_records as {{ materialized_cte() }} (
    select
        *,
        row_number() over (order by rank_label) as record_rank
    from records
),

edges as {{ materialized_cte() }} (
    select
        ranked_records.record_rank,
        dense_rank() over (order by edges.key_id) as key_number
    from {{ ref('int_identity_edges') }} as edges
    inner join ranked_records on edges.record_key = ranked_records.record_key
),

labels_0 as {{ materialized_cte() }} (
    select
        record_rank,
        record_rank as label
    from ranked_records
),
{% for step in range(1, steps + 1) %}
    {{ label_propagation_step(step) }}
{% endfor %}

components as (
    select
        ranked_records.record_key,
        ranked_records.record_source,
        ranked_records.record_id,
        ranked_records.rank_label,
        final_labels.label as component_label,
        previous_labels.label as previous_step_label
    from ranked_records
    inner join labels_{{ steps }} as final_labels
        on ranked_records.record_rank = final_labels.record_rank
    inner join labels_{{ steps - 1 }} as previous_labels
        on ranked_records.record_rank = previous_labels.record_rank
),

-- The component's earliest record: a new customer's key is named after it.
first_records as (
    select
        record_rank as component_label,
        record_key as component_first_record
    from ranked_records
)

select
    components.*,
    first_records.component_first_record,
    count(*) over (partition by components.component_label) as component_size,
    count(*) over (partition by components.component_label) > {{ var('identity_max_component_size') }}
        as is_component_oversized
from components
inner join first_records on components.component_label = first_records.component_label
