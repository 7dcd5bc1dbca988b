-- One row per customer with a completed purchase: the buy-till-you-die inputs as of the
-- run (macros/clv.sql: frequency, recency, t, monetary_value in the literature's
-- conventions; the calibration ends on the as-of date).
with summary as (
    {{ clv_summary(ref('int_customer_purchase_days'), as_of_date(), as_of_date()) }}
)

select
    customer_key,
    frequency,
    recency,
    t,
    monetary_value,
    {{ as_of_date() }} as as_of_date
from summary
