{#- SCD type 2 history of the 360's key attributes. The timestamp strategy uses the
    as-of date (not the wall clock), so a rerun on the same data adds nothing and an
    as-of backtest on an earlier date never rewrites later history. -#}
{% snapshot customer_attributes_snapshot %}
    {{ config(
        target_schema='snapshots',
        unique_key='customer_key',
        strategy='timestamp',
        updated_at='snapshot_as_of',
    ) }}
    select
        customer_key,
        lifecycle_stage,
        relationship_type,
        rfm_segment,
        loyalty_tier,
        email,
        phone,
        country,
        cast(as_of_date as timestamp) as snapshot_as_of
    from {{ ref('dim_customer_360') }}
{% endsnapshot %}
