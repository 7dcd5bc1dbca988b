-- The key assignment the last (non-as-of) run saved; read by int_customer_keys_by_record.
-- saved_at is bookkeeping of the state table, not part of the assignment.
with customer_keys as (
    select * from {{ source('identity_state', 'customer_keys') }}
),

assignment as (
    select
        record_key,
        customer_key,
        key_origin_record
    from customer_keys
)

select * from assignment
