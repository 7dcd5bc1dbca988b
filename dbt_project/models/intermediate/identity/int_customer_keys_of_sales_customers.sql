-- record_id -> customer_key for shop customers: how orders find their customer.
-- One definition of the lookup that many models join; a view, so it costs nothing to build.
{{ config(materialized='view') }}

with customer_keys as (
    select * from {{ ref('int_customer_keys_by_record') }}
),

keys_of_source as (
    select
        record_id,
        customer_key
    from customer_keys
    where record_source = 'sales_customer'
)

select * from keys_of_source
