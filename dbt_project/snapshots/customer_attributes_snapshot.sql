{#- SCD type 2 history of the 360's key attributes: a new version only for a customer
    whose attributes changed. The timestamp strategy uses the as-of date (not the wall
    clock), so a rerun on the same data adds nothing and an as-of backtest on an earlier
    date never rewrites later history; a customer whose attributes equal their current
    version keeps that version's date, so the daily run adds no row for them (the table
    grows with the changes, not with customers x days). -#}
{% snapshot customer_attributes_snapshot %}
    {{ config(
        target_schema='snapshots',
        unique_key='customer_key',
        strategy='timestamp',
        updated_at='snapshot_as_of',
    ) }}
    {%- set attributes = [
        'lifecycle_stage', 'relationship_type', 'rfm_segment', 'loyalty_tier', 'email',
        'phone', 'country'] %}
    {%- set existing = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier) %}

    with customers as (
        select
            customer_key,
            {% for attribute in attributes %}{{ attribute }},
            {% endfor %}cast(as_of_date as timestamp) as as_of
        from {{ ref('dim_customer_360') }}
    ),

    {% if existing %}
    current_versions as (
        select * from {{ this }}
        where dbt_valid_to is null
    ),
    {% endif %}

    final as (
        select
            customers.customer_key,
            {% for attribute in attributes %}customers.{{ attribute }},
            {% endfor %}
            {%- if existing %}
            case
                when current_versions.customer_key is not null
                    and {% for attribute in attributes %}customers.{{ attribute }} is not distinct from current_versions.{{ attribute }}{% if not loop.last %}
                    and {% endif %}{% endfor %}
                    then current_versions.snapshot_as_of
                else customers.as_of
            end as snapshot_as_of
            {%- else %}
            customers.as_of as snapshot_as_of
            {%- endif %}
        from customers
        {% if existing -%}
        left join current_versions on customers.customer_key = current_versions.customer_key
        {%- endif %}
    )

    select * from final
{% endsnapshot %}
