-- Warn, never block: orders kept as delivered whose figures deserve a look
-- (fct_order_anomalies says what each does to the figures).
{{ config(severity='warn') }}

select
    anomaly,
    count(*) as orders
from {{ ref('fct_order_anomalies') }}
group by anomaly
