-- Grain: one row per reference from one kind of source row to its parent, with how many
-- rows name a parent that never arrived. Those rows are kept (raw and staging hold them),
-- never silently dropped: this mart counts them, and the warn test
-- unmatched_references_are_reported raises them on every run.
{%- set references = [
    ('order_lines', 'order_id', 'orders', 'order_id',
        'sales order lines', 'sales orders', 'the line is in no order, so in no revenue figure'),
    ('orders', 'customer_id', 'sales_customers', 'customer_id',
        'sales orders', 'sales customers',
        'the customer is known from their orders only (no name, email or phone)'),
    ('interactions', 'contact_id', 'contacts', 'contact_id',
        'CRM interactions', 'CRM contacts', 'the interaction counts for no customer'),
    ('survey_responses', 'contact_id', 'contacts', 'contact_id',
        'survey responses', 'CRM contacts', 'the answer counts in NPS and CSAT but for no customer'),
    ('loyalty_events', 'contact_id', 'contacts', 'contact_id',
        'loyalty events', 'CRM contacts', 'the points belong to no customer'),
    ('social_interactions', 'profile_id', 'profiles', 'profile_id',
        'social interactions', 'social profiles', 'the interaction counts for no customer'),
] %}
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
    {%- for child, child_column, parent, parent_column, child_rows, parent_rows, consequence in references %}
        select
            '{{ child }}.{{ child_column }}' as reference,
            '{{ child_rows }}' as child_rows,
            '{{ parent_rows }}' as parent_rows,
            '{{ consequence }}' as consequence,
            count(*) filter (where {{ parent }}.{{ parent_column }} is null) as unmatched_rows,
            count(*) as all_rows
        from {{ child }}
        left join {{ parent }} on {{ child }}.{{ child_column }} = {{ parent }}.{{ parent_column }}
        -- a row without the reference (an anonymous order) names no parent at all
        where {{ child }}.{{ child_column }} is not null
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    *,
    {{ as_of_date() }} as as_of_date
from counted
