-- Grain: one row per advocate to invite into the community: a promoter (latest NPS 9-10),
-- a customer who referred someone, or one with positive mentions, who is not lapsed.
select
    customer_key,
    full_name,
    email,
    latest_nps_score,
    referrals_made,
    positive_mentions,
    avg_sentiment,
    lifecycle_stage,
    net_revenue,
    concat_ws(
        ', ',
        case when latest_nps_class = 'promoter' then 'promoter' end,
        case when referrals_made > 0 then 'referrer' end,
        case when positive_mentions > 0 then 'positive mentions' end
    ) as advocacy_signals,
    as_of_date
from {{ ref('dim_customer_360') }}
where (latest_nps_class = 'promoter' or referrals_made > 0 or positive_mentions > 0)
    and lifecycle_stage <> 'lapsed'
