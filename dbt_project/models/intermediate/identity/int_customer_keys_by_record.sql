-- Lookup from any source id to its customer_key, for joining facts to customers.
select
    record_source,
    record_id,
    customer_key
from {{ ref('int_identity_components') }}
