-- Every source record that can stand for a person, with the keys it carries. Emails seen
-- only on campaign touches or referrals are records of their own ("email_seen").
with contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

profiles as (
    select * from {{ ref('stg_social__profiles') }}
),

social_interactions as (
    select * from {{ ref('stg_social__interactions') }}
),

touches as (
    select * from {{ ref('stg_crm__campaign_touches') }}
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
        where referred_email is not null
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
        coalesce(customers.created_at, first_orders.first_ordered_at) as first_seen_at,
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
)

select
    *,
    record_source || ':' || record_id as record_key
from unioned
