-- Connected components of the record-key graph by minimum-label propagation, unrolled
-- into a fixed number of steps so it is plain SQL on any engine (no recursion). Each
-- record starts with its own rank label (first seen, source, id); every step hands each
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
        coalesce(strftime(first_seen_at, '%Y%m%d%H%M%S'), '99999999999999')
            || '|' || record_source || '|' || record_id as rank_label
    from {{ ref('int_identity_records_unioned') }}
),

edges as (
    select record_key, key_id from {{ ref('int_identity_edges') }}
),

labels_0 as {{ materialized_cte() }} (
    select record_key, rank_label as label from records
),
{% for step in range(1, steps + 1) %}
key_labels_{{ step }} as {{ materialized_cte() }} (
    select edges.key_id, min(labels.label) as label
    from edges
    inner join labels_{{ step - 1 }} as labels on edges.record_key = labels.record_key
    group by edges.key_id
),

labels_{{ step }} as {{ materialized_cte() }} (
    select
        labels.record_key,
        least(labels.label, coalesce(min(key_labels.label), labels.label)) as label
    from labels_{{ step - 1 }} as labels
    left join edges on labels.record_key = edges.record_key
    left join key_labels_{{ step }} as key_labels on edges.key_id = key_labels.key_id
    group by labels.record_key, labels.label
),
{% endfor %}

components as (
    select
        records.record_key,
        records.record_source,
        records.record_id,
        records.rank_label,
        final_labels.label as component_label,
        previous_labels.label as previous_step_label
    from records
    inner join labels_{{ steps }} as final_labels on records.record_key = final_labels.record_key
    inner join labels_{{ steps - 1 }} as previous_labels on records.record_key = previous_labels.record_key
),

-- The component's earliest record: a new customer's key is named after it.
first_records as (
    select rank_label as component_label, record_key as component_first_record
    from records
)

select
    components.*,
    first_records.component_first_record,
    count(*) over (partition by components.component_label) as component_size,
    count(*) over (partition by components.component_label) > {{ var('identity_max_component_size') }}
        as is_component_oversized
from components
inner join first_records on components.component_label = first_records.component_label
