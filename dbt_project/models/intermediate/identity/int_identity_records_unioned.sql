-- Every source record that can stand for a person, with the keys it carries. Emails seen
-- only on campaign touches or referrals are records of their own ("email_seen").
-- Incremental (macros/incremental.sql): a run rebuilds the records whose source rows were
-- loaded since (for events, every version of a changed event: a moved order changes its
-- old customer's first order too) and deletes the records no source yields any more
-- (tombstones, below).
{{ config(
    materialized=incremental_or_table(),
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=["{{ delete_tombstones() }}"],
) }}

with
{% if is_incremental() %}
    -- every version of the events with a version loaded since
    order_versions as (
        select * from {{ source('sales', 'orders') }}
        where {{ key_loaded_since_last_build(source('sales', 'orders'), 'order_id') }}
    ),

    interaction_versions as (
        select * from {{ source('social', 'interactions') }}
        where {{ key_loaded_since_last_build(source('social', 'interactions'), 'interaction_id') }}
    ),

    touch_versions as (
        select * from {{ source('crm', 'campaign_touches') }}
        where {{ key_loaded_since_last_build(source('crm', 'campaign_touches'), 'touch_id') }}
    ),

    changed_contact_ids as (
        select contact_id from {{ source('crm', 'contacts') }}
        where {{ loaded_since_last_build() }}
    ),

    changed_customer_ids as (
        select customer_id from {{ source('sales', 'customers') }}
        where {{ loaded_since_last_build() }}
        union
        select nullif(trim(customer_id), '') from order_versions
    ),

    changed_profile_ids as (
        select profile_id from {{ source('social', 'profiles') }}
        where {{ loaded_since_last_build() }}
        union
        select profile_id from interaction_versions
    ),

    changed_emails as (
        select {{ normalise_email('email') }} as email from touch_versions
        union
        select {{ normalise_email('referred_email') }} from interaction_versions
    ),
{% endif %}

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    {% if is_incremental() %}
        where contact_id in (select changed_contact_ids.contact_id from changed_contact_ids)
    {% endif %}
),

customers as (
    select * from {{ ref('stg_sales__customers') }}
    {% if is_incremental() %}
        where customer_id in (select changed_customer_ids.customer_id from changed_customer_ids)
    {% endif %}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
    {% if is_incremental() %}
        where customer_id in (select changed_customer_ids.customer_id from changed_customer_ids)
    {% endif %}
),

profiles as (
    select * from {{ ref('stg_social__profiles') }}
    {% if is_incremental() %}
        where profile_id in (select changed_profile_ids.profile_id from changed_profile_ids)
    {% endif %}
),

social_interactions as (
    select * from {{ ref('stg_social__interactions') }}
    {% if is_incremental() %}
        where
            profile_id in (select changed_profile_ids.profile_id from changed_profile_ids)
            or referred_email in (select changed_emails.email from changed_emails)
    {% endif %}
),

touches as (
    select * from {{ ref('stg_crm__campaign_touches') }}
    {% if is_incremental() %}
        where email in (select changed_emails.email from changed_emails)
    {% endif %}
),

-- Order customer ids without a customer record still identify a (sales) customer.
customer_ids as (
    select customer_id from customers
    union
    select customer_id from orders
    where customer_id is not null
),

first_orders as (
    select
        customer_id,
        min(ordered_at) as first_ordered_at
    from orders
    where customer_id is not null
    group by customer_id
),

first_social as (
    select
        profile_id,
        min(occurred_at) as first_interaction_at
    from social_interactions
    group by profile_id
),

emails_seen as (
    select
        email,
        min(occurred_at) as first_seen_at
    from (
        select
            email,
            occurred_at
        from touches
        where email is not null
        union all
        select
            referred_email,
            occurred_at
        from social_interactions
        where
            referred_email is not null
            {% if is_incremental() %}
                and referred_email in (select changed_emails.email from changed_emails)
            {% endif %}
    ) as seen
    group by email
),

unioned as (
    select
        'crm_contact' as record_source,
        contact_id as record_id,
        created_at as first_seen_at,
        updated_at,
        email,
        phone,
        first_name,
        last_name,
        country,
        twitter_handle,
        instagram_handle,
        facebook_handle,
        cast(null as {{ dbt.type_string() }}) as social_platform,
        cast(null as {{ dbt.type_string() }}) as social_handle
    from contacts

    union all

    select
        'sales_customer' as record_source,
        customer_ids.customer_id as record_id,
        -- an order placed before the account was created is when the customer was first
        -- seen (fct_order_anomalies flags it): least skips a missing value
        least(customers.created_at, first_orders.first_ordered_at) as first_seen_at,
        customers.updated_at,
        customers.email,
        customers.phone,
        customers.first_name,
        customers.last_name,
        customers.country,
        null as twitter_handle,
        null as instagram_handle,
        null as facebook_handle,
        null as social_platform,
        null as social_handle
    from customer_ids
    left join customers on customer_ids.customer_id = customers.customer_id
    left join first_orders on customer_ids.customer_id = first_orders.customer_id

    union all

    select
        'social_profile' as record_source,
        profiles.profile_id as record_id,
        first_social.first_interaction_at as first_seen_at,
        null as updated_at,
        profiles.email,
        null as phone,
        profiles.display_name as first_name,
        null as last_name,
        null as country,
        null as twitter_handle,
        null as instagram_handle,
        null as facebook_handle,
        profiles.platform as social_platform,
        profiles.handle as social_handle
    from profiles
    left join first_social on profiles.profile_id = first_social.profile_id

    union all

    select
        'email_seen' as record_source,
        emails_seen.email as record_id,
        emails_seen.first_seen_at,
        null as updated_at,
        emails_seen.email,
        null as phone,
        null as first_name,
        null as last_name,
        null as country,
        null as twitter_handle,
        null as instagram_handle,
        null as facebook_handle,
        null as social_platform,
        null as social_handle
    from emails_seen
),
{% if is_incremental() %}
    -- Records that can vanish: a sales customer known only from orders that all moved to
    -- another customer, an email seen only on touches or referrals that were corrected. A
    -- changed one no source yields any more is written as a tombstone, which replaces the
    -- old row and is deleted by the post-hook.
    gone as (
        select
            'sales_customer' as record_source,
            changed_customer_ids.customer_id as record_id
        from changed_customer_ids
        anti join customer_ids on changed_customer_ids.customer_id = customer_ids.customer_id
        union all
        select
            'email_seen' as record_source,
            changed_emails.email as record_id
        from changed_emails
        anti join emails_seen on changed_emails.email = emails_seen.email
    ),
{% endif %}

records as (
    select
        *,
        false as _is_gone
    from unioned
    {% if is_incremental() %}
        union all
        select
            gone.record_source,
            gone.record_id,
            {% for column in [
                'first_seen_at', 'updated_at', 'email', 'phone', 'first_name', 'last_name', 'country',
                'twitter_handle', 'instagram_handle', 'facebook_handle', 'social_platform', 'social_handle',
            ] -%}
                null as {{ column }},
            {% endfor -%}
            true as _is_gone
        from gone
        where gone.record_id is not null
    {% endif %}
)

select
    *,
    record_source || ':' || record_id as record_key,
    {{ newest_load_id() }} as _last_load_id
from records
