-- Stage intervals of a customer do not overlap and leave no gap: each interval ends
-- where the next begins, only the last is open (current), and the first starts on the
-- customer's first signal (first contact).
with history as (
    select
        *,
        lead(valid_from) over (partition by customer_key order by valid_from) as next_valid_from,
        row_number() over (partition by customer_key order by valid_from) as position
    from {{ ref('fct_customer_lifecycle_history') }}
),

first_signals as (
    select
        customer_key,
        min(signal_date) as first_signal_date
    from {{ ref('int_customer_lifecycle_signals') }}
    group by customer_key
)

select
    history.customer_key,
    history.valid_from,
    'gap or overlap' as problem
from history
where history.next_valid_from is distinct from history.valid_to
    or history.valid_to <= history.valid_from

union all

select
    history.customer_key,
    history.valid_from,
    'does not start at first contact' as problem
from history
inner join first_signals on history.customer_key = first_signals.customer_key
where history.position = 1 and history.valid_from <> first_signals.first_signal_date
