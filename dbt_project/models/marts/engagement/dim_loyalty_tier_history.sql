-- Grain: one row per customer per loyalty tier interval (SCD type 2): valid_from is the
-- day the tier was reached, valid_to the day it changed (null while current).
with tier_days as (
    select
        customer_key,
        cast(occurred_at as date) as tier_date,
        {{ max_by('tier', sort_key(['occurred_at', 'event_id'])) }} as loyalty_tier
    from {{ ref('fct_loyalty_points_ledger') }}
    where tier is not null
    group by 1, 2
),

changes as (
    select
        *,
        lag(loyalty_tier) over (partition by customer_key order by tier_date) as previous_tier
    from tier_days
),

intervals as (
    select
        customer_key,
        loyalty_tier,
        previous_tier,
        tier_date as valid_from,
        lead(tier_date) over (partition by customer_key order by tier_date) as valid_to
    from changes
    where previous_tier is null or previous_tier <> loyalty_tier
)

select
    *,
    valid_to is null as is_current,
    {{ as_of_date() }} as as_of_date
from intervals
