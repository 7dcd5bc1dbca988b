-- Grain: one row per current loyalty tier plus an `all members` row and a `non-members`
-- row: members, outstanding points (the liability), redemption rate (points redeemed /
-- points earned), average net revenue per customer (members against non-members), and
-- renewal rate where memberships expire (members whose expiry passed and who renewed).
with customers as (
    select * from {{ ref('dim_customer_360') }}
),

renewals as (
    select
        customer_key,
        bool_or(event_type = 'renew') as renewed,
        max(occurred_at) filter (where event_type = 'enroll') as enrolled_at
    from {{ ref('fct_loyalty_points_ledger') }}
    group by customer_key
),

grouped as (
    select
        case when customers.is_loyalty_member then coalesce(customers.loyalty_tier, 'no_tier') else 'non-members' end
            as tier_group,
        customers.*
    from customers
),

rows_ as (
    select
        tier_group,
        {{ star_except(['tier_group']) }}
    from grouped

    union all

    select
        'all members' as tier_group,
        {{ star_except(['tier_group']) }}
    from grouped
    where is_loyalty_member
)

select
    rows_.tier_group,
    count(*) as customers,
    sum(rows_.points_balance) as outstanding_points,
    sum(rows_.points_earned) as points_earned,
    sum(rows_.points_redeemed) as points_redeemed,
    case when sum(rows_.points_earned) > 0 then sum(rows_.points_redeemed) / sum(rows_.points_earned) end
        as redemption_rate,
    cast(avg(rows_.net_revenue) as decimal(18, 4)) as avg_net_revenue_per_customer,
    count(*) filter (where renewals.renewed) as renewed_members,
    any_value(rows_.as_of_date) as as_of_date
from rows_
left join renewals on rows_.customer_key = renewals.customer_key
group by rows_.tier_group
