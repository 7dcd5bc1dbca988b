-- Grain: one row per customer per stage interval [valid_from, valid_to). Built from the
-- dated signals up to the as-of date: on each signal day the customer's cumulative state
-- is evaluated with the same lifecycle_stage rule as the 360, and consecutive days in the
-- same stage collapse into one interval. The current interval has valid_to null and
-- is_current; its days_in_stage runs to the as-of date.
-- Incremental (macros/incremental.sql): a run rebuilds the intervals of the customers
-- whose signals were re-derived since, and of those with a signal the moving as-of date
-- reached since the last build (a purchase passing the churn window); keys retired by a
-- merge go, and the current intervals of everyone else are aged to the new as-of date.
{{ config(
    materialized=incremental_or_table(),
    unique_key='customer_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ delete_retired_customer_keys(ref('int_customer_lifecycle_signals')) }}",
        "{{ age_current_intervals() }}",
    ],
) }}

with as_of as (
    {{ as_of_row() }}
),

all_signals as (
    select * from {{ ref('int_customer_lifecycle_signals') }}
),

{% if is_incremental() %}
    changed_customers as (
        select customer_key from all_signals
        where {{ loaded_since_last_build('_last_load_id') }}
        union
        select all_signals.customer_key from all_signals
        cross join as_of
        where all_signals.signal_date <= as_of.as_of_date
            and all_signals.signal_date > (select max(built._built_as_of) from {{ this }} as built)
    ),

    signals as (
        select all_signals.* from all_signals
        inner join changed_customers on all_signals.customer_key = changed_customers.customer_key
        cross join as_of
        where all_signals.signal_date <= as_of.as_of_date
    ),
{% else %}
    signals as (
        select all_signals.* from all_signals
        cross join as_of
        where all_signals.signal_date <= as_of.as_of_date
    ),
{% endif %}

cumulative as (
    select
        customer_key,
        signal_date,
        sum(completed_orders) over running as completed_orders,
        max(case when has_purchase then signal_date end) over running as last_order_date,
        -- latest NPS class so far (the latest answer counts, not the best)
        {{ last_non_null('nps_class') }} over running as latest_nps_class,
        bool_or(has_referral) over running as has_referral,
        {{ last_non_null('loyalty_tier') }} over running as loyalty_tier,
        bool_or(is_lead) over running as is_lead
    from signals
    window running as (partition by customer_key order by signal_date rows between unbounded preceding and current row)
),

staged as (
    select
        customer_key,
        signal_date,
        {{ lifecycle_stage(
            'completed_orders',
            dbt.datediff('last_order_date', 'signal_date', 'day'),
            'latest_nps_class', 'has_referral', 'loyalty_tier', 'is_lead') }} as lifecycle_stage,
        completed_orders
    from cumulative
),

changes as (
    select
        *,
        lag(lifecycle_stage) over (partition by customer_key order by signal_date) as previous_stage
    from staged
),

intervals as (
    select
        customer_key,
        lifecycle_stage,
        previous_stage,
        signal_date as valid_from,
        lead(signal_date) over (partition by customer_key order by signal_date) as valid_to,
        completed_orders as completed_orders_at_entry
    from changes
    where previous_stage is null or previous_stage <> lifecycle_stage
)

select
    intervals.customer_key,
    intervals.lifecycle_stage,
    intervals.previous_stage,
    intervals.valid_from,
    intervals.valid_to,
    intervals.valid_to is null as is_current,
    {{ dbt.datediff('intervals.valid_from', 'coalesce(intervals.valid_to, as_of.as_of_date)', 'day') }}
        as days_in_stage,
    intervals.completed_orders_at_entry,
    as_of.as_of_date as _built_as_of,
    {{ newest_load_id() }} as _last_load_id
from intervals
cross join as_of
