{# Buy-till-you-die inputs per customer whose first purchase day is on or before
   `calibration_end`, with the literature's conventions (Fader, Hardie & Lee 2005; time
   unit var clv_time_unit_days, 7 = weeks):
     frequency      = purchase days up to calibration_end - 1 (repeat purchase days)
     recency        = days from the first to the last of them / unit
     t              = days from the first purchase day to calibration_end / unit
     monetary_value = mean net value of the repeat purchase days (the first excluded, the
                      Gamma-Gamma convention); 0 without repeats
     holdout_purchases = purchase days after calibration_end up to holdout_end
   One macro for the fit (calibration_end = the as-of date) and the backtest (the as-of
   date minus the holdout), so both read histories the same way. #}
{% macro clv_summary(purchase_days, calibration_end, holdout_end) -%}
{%- set unit_days = var('clv_time_unit_days') %}
{%- set in_calibration = 'purchase_date <= ' ~ calibration_end %}
    select
        customer_key,
        count(*) filter (where {{ in_calibration }}) - 1 as frequency,
        {{ dbt.datediff('min(purchase_date)', 'max(purchase_date) filter (where ' ~ in_calibration ~ ')', 'day') }} / {{ unit_days }} as recency,
        {{ dbt.datediff('min(purchase_date)', calibration_end, 'day') }} / {{ unit_days }} as t,
        cast(coalesce(avg(day_value) filter (where day_number > 1 and {{ in_calibration }}), 0) as double) as monetary_value,
        count(*) filter (where purchase_date > {{ calibration_end }} and purchase_date <= {{ holdout_end }}) as holdout_purchases
    from {{ purchase_days }}
    group by customer_key
    having min(purchase_date) <= {{ calibration_end }}
{%- endmacro %}
