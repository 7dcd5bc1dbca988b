-- Grain: one row per reference from one kind of source row to its parent, with how many
-- rows name a parent that never arrived. Those rows are kept (raw and staging hold them),
-- never silently dropped: this mart counts them, and the warn test
-- unmatched_references_are_reported raises them on every run.
with order_lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

sales_customers as (
    select * from {{ ref('stg_sales__customers') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

interactions as (
    select * from {{ ref('stg_crm__interactions') }}
),

survey_responses as (
    select * from {{ ref('stg_crm__survey_responses') }}
),

loyalty_events as (
    select * from {{ ref('stg_crm__loyalty_events') }}
),

profiles as (
    select * from {{ ref('stg_social__profiles') }}
),

social_interactions as (
    select * from {{ ref('stg_social__interactions') }}
),

counted as (
    select
        'order_lines.order_id' as reference,
        'sales order lines' as child_rows,
        'sales orders' as parent_rows,
        'the line is in no order, so in no revenue figure' as consequence,
        count(*) filter (where orders.order_id is null) as unmatched_rows,
        count(*) as all_rows
    from order_lines
    left join orders on order_lines.order_id = orders.order_id

    union all

    select
        'orders.customer_id' as reference,
        'sales orders' as child_rows,
        'sales customers' as parent_rows,
        'the customer is known from their orders only (no name, email or phone)' as consequence,
        count(*) filter (where sales_customers.customer_id is null) as unmatched_rows,
        count(*) as all_rows
    from orders
    left join sales_customers on orders.customer_id = sales_customers.customer_id
    where orders.customer_id is not null

    union all

    select
        'interactions.contact_id' as reference,
        'CRM interactions' as child_rows,
        'CRM contacts' as parent_rows,
        'the interaction counts for no customer' as consequence,
        count(*) filter (where contacts.contact_id is null) as unmatched_rows,
        count(*) as all_rows
    from interactions
    left join contacts on interactions.contact_id = contacts.contact_id

    union all

    select
        'survey_responses.contact_id' as reference,
        'survey responses' as child_rows,
        'CRM contacts' as parent_rows,
        'the answer counts in NPS and CSAT but for no customer' as consequence,
        count(*) filter (where contacts.contact_id is null) as unmatched_rows,
        count(*) as all_rows
    from survey_responses
    left join contacts on survey_responses.contact_id = contacts.contact_id

    union all

    select
        'loyalty_events.contact_id' as reference,
        'loyalty events' as child_rows,
        'CRM contacts' as parent_rows,
        'the points belong to no customer' as consequence,
        count(*) filter (where contacts.contact_id is null) as unmatched_rows,
        count(*) as all_rows
    from loyalty_events
    left join contacts on loyalty_events.contact_id = contacts.contact_id

    union all

    select
        'social_interactions.profile_id' as reference,
        'social interactions' as child_rows,
        'social profiles' as parent_rows,
        'the interaction counts for no customer' as consequence,
        count(*) filter (where profiles.profile_id is null) as unmatched_rows,
        count(*) as all_rows
    from social_interactions
    left join profiles on social_interactions.profile_id = profiles.profile_id
)

select
    *,
    {{ as_of_date() }} as as_of_date
from counted
