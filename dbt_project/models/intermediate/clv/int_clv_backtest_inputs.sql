-- One row per customer whose first purchase day falls on or before the calibration end
-- (the as-of date minus var clv_holdout_weeks): the calibration history as the fit reads
-- it (macros/clv.sql) and the purchase days in the holdout, up to the as-of date.
{%- set calibration_end = "cast(" ~ as_of_date() ~ " - interval " ~ var('clv_holdout_weeks') ~ " week as date)" %}

with summary as (
    {{ clv_summary(ref('int_customer_purchase_days'), calibration_end, as_of_date()) }}
)

select
    customer_key,
    frequency,
    recency,
    t,
    holdout_purchases,
    {{ calibration_end }} as calibration_end,
    {{ as_of_date() }} as holdout_end
from summary
