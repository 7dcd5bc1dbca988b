-- Grain: one row per day, 2000-01-01 to 2040-12-31: MetricFlow's time spine (it joins
-- metrics to it for time-based queries), and a date dimension for BI tools.
select {{ series("date '2000-01-01'", "date '2040-12-31'", 'interval 1 day', 'date') }} as date_day
