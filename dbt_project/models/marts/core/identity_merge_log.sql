-- Merges and splits of customers between runs, as recorded by the identity state
-- (int_customer_keys_by_record's post-hook). A merge means a record bridged two customers:
-- `from_customer_key` retired into `to_customer_key`. A split means records left a
-- customer (a correction removed the shared key); the old key lives on.
select
    change_type,
    from_customer_key,
    to_customer_key,
    records_moved,
    as_of_date,
    invocation_id,
    logged_at
from {{ ref('stg_identity_state__key_changes') }}
-- the key-assignment post-hook must have run before this reads the log
-- depends_on: {{ ref('int_customer_keys_by_record') }}
