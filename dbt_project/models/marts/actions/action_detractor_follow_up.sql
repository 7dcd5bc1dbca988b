-- Grain: one row per NPS detractor answer with no CRM interaction with the customer in
-- the follow_up_window_days after it, once that window has passed (or is still open and
-- nobody has reached out yet: `is_overdue` tells which). Oldest first is the call list.
with detractors as (
    select * from {{ ref('fct_survey_responses') }}
    where nps_class = 'detractor'
),

contact_keys as (
    select * from {{ ref('int_customer_keys_of_crm_contacts') }}
),

interactions as (
    select
        contact_keys.customer_key,
        interactions.occurred_at
    from {{ ref('stg_crm__interactions') }} as interactions
    inner join contact_keys on interactions.contact_id = contact_keys.record_id
),

followed_up as (
    select distinct detractors.response_id
    from detractors
    inner join interactions
        on detractors.customer_key = interactions.customer_key
            and detractors.responded_at < interactions.occurred_at
            and interactions.occurred_at <= detractors.responded_at + interval {{ var('follow_up_window_days') }} day
)

select
    detractors.response_id,
    detractors.customer_key,
    customers.full_name,
    customers.email,
    customers.phone,
    detractors.score,
    detractors.responded_at,
    {{ dbt.datediff('detractors.responded_date', 'detractors.as_of_date', 'day') }} as days_since_answer,
    {{ dbt.datediff('detractors.responded_date', 'detractors.as_of_date', 'day') }}
    > {{ var('follow_up_window_days') }} as is_overdue,
    customers.lifecycle_stage,
    customers.net_revenue,
    detractors.as_of_date
from detractors
inner join {{ ref('dim_customer_360') }} as customers on detractors.customer_key = customers.customer_key
where detractors.response_id not in (select followed_up.response_id from followed_up)
    -- only the customer's latest NPS answer matters: a later non-detractor answer closes it
    and customers.latest_nps_class = 'detractor'
