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
        final_labels.label as component_label,
        previous_labels.label as previous_step_label
    from records
    inner join labels_{{ steps }} as final_labels on records.record_key = final_labels.record_key
    inner join labels_{{ steps - 1 }} as previous_labels on records.record_key = previous_labels.record_key
),

keyed as (
    select
        *,
        -- Named after the earliest record alone (not its timestamp), so a corrected
        -- timestamp elsewhere does not rename the customer.
        'cus_' || left(md5(split_part(component_label, '|', 2) || ':' || split_part(component_label, '|', 3)), 16)
            as customer_key,
        count(*) over (partition by component_label) as component_size
    from components
)

select
    *,
    component_size > {{ var('identity_max_component_size') }} as is_component_oversized
from keyed
