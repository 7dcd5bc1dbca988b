-- Grain: one row per month x acquisition channel (the lead_source of the customer's
-- earliest CRM contact; `unknown` without one, `anonymous` for guest orders).
--   acquisition: customers who became leads that month;
--   activation: of those leads, how many made a first completed purchase within
--               activation_window_days of becoming a lead (counted in the lead's month);
--   retention:   returning buyers (a repeat completed order that month);
--   referral:    referrals made and NPS promoter answers that month;
--   revenue:     net revenue of orders placed that month, purchasing customers and the
--                average net revenue per purchasing customer.
with as_of as (
    {{ as_of_row() }}
),

contact_keys as (
    select * from {{ ref('int_customer_keys_of_crm_contacts') }}
),

channels as (
    select
        contact_keys.customer_key,
        {{ min_by(
            "coalesce(contacts.lead_source, 'unknown')",
            sort_key(['contacts.created_at', 'contacts.contact_id']),
        ) }}
            as acquisition_channel
    from {{ ref('stg_crm__contacts') }} as contacts
    inner join contact_keys on contacts.contact_id = contact_keys.record_id
    group by contact_keys.customer_key
),

lead_dates as (
    select
        customer_key,
        min(signal_date) as lead_date
    from {{ ref('int_customer_lifecycle_signals') }}
    where is_lead
    group by customer_key
),

orders as (
    select
        *,
        {{ dbt.date_trunc('month', 'ordered_date') }} as order_month
    from {{ ref('fct_orders') }}
),

first_purchases as (
    select
        customer_key,
        min(ordered_date) as first_purchase_date
    from orders
    where is_completed and customer_key is not null
    group by customer_key
),

acquisition as (
    select
        {{ dbt.date_trunc('month', 'lead_dates.lead_date') }} as activity_month,
        coalesce(channels.acquisition_channel, 'unknown') as acquisition_channel,
        count(*) as new_leads,
        count(*) filter (
            where first_purchases.first_purchase_date between lead_dates.lead_date
            and lead_dates.lead_date + interval {{ var('activation_window_days') }} day
        ) as activated_leads
    from lead_dates
    left join channels on lead_dates.customer_key = channels.customer_key
    left join first_purchases on lead_dates.customer_key = first_purchases.customer_key
    group by 1, 2
),

commerce as (
    select
        orders.order_month as activity_month,
        case when orders.customer_key is null then 'anonymous'
            else coalesce(channels.acquisition_channel, 'unknown')
        end as acquisition_channel,
        count(distinct orders.customer_key) filter (where orders.is_repeat_order) as returning_buyers,
        count(distinct orders.customer_key) filter (where orders.is_completed) as purchasing_customers,
        sum(orders.net_amount) as net_revenue
    from orders
    left join channels on orders.customer_key = channels.customer_key
    group by 1, 2
),

referrals as (
    select
        social.interaction_month as activity_month,
        coalesce(channels.acquisition_channel, 'unknown') as acquisition_channel,
        count(*) as referrals
    from {{ ref('fct_social_interactions') }} as social
    left join channels on social.customer_key = channels.customer_key
    where social.is_referral
    group by 1, 2
),

promoters as (
    select
        responses.response_month as activity_month,
        coalesce(channels.acquisition_channel, 'unknown') as acquisition_channel,
        count(*) as promoter_answers
    from {{ ref('fct_survey_responses') }} as responses
    left join channels on responses.customer_key = channels.customer_key
    where responses.nps_class = 'promoter'
    group by 1, 2
),

keys as (
    select
        activity_month,
        acquisition_channel
    from acquisition
    union
    select
        activity_month,
        acquisition_channel
    from commerce
    union
    select
        activity_month,
        acquisition_channel
    from referrals
    union
    select
        activity_month,
        acquisition_channel
    from promoters
)

select
    keys.activity_month,
    keys.acquisition_channel,
    coalesce(acquisition.new_leads, 0) as new_leads,
    coalesce(acquisition.activated_leads, 0) as activated_leads,
    case when acquisition.new_leads > 0 then acquisition.activated_leads / acquisition.new_leads end as activation_rate,
    coalesce(commerce.returning_buyers, 0) as returning_buyers,
    coalesce(referrals.referrals, 0) as referrals,
    coalesce(promoters.promoter_answers, 0) as promoter_answers,
    coalesce(commerce.purchasing_customers, 0) as purchasing_customers,
    cast(coalesce(commerce.net_revenue, 0) as decimal(18, 4)) as net_revenue,
    case when commerce.purchasing_customers > 0
            then cast(commerce.net_revenue / commerce.purchasing_customers as decimal(18, 4))
    end as avg_revenue_per_purchasing_customer,
    as_of.as_of_date
from keys
cross join as_of
left join acquisition using (activity_month, acquisition_channel)
left join commerce using (activity_month, acquisition_channel)
left join referrals using (activity_month, acquisition_channel)
left join promoters using (activity_month, acquisition_channel)
