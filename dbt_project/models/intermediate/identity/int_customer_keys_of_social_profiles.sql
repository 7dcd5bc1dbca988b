-- record_id -> customer_key for social profiles: how social interactions find their customer.
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
    where record_source = 'social_profile'
)

select * from keys_of_source
