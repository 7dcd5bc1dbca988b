-- A member never redeems more points than they hold: the running balance stays >= 0.
select
    event_id,
    customer_key,
    points_balance_after
from {{ ref('fct_loyalty_points_ledger') }}
where points_balance_after < 0
