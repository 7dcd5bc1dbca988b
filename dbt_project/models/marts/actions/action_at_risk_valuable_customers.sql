-- Grain: one row per valuable customer at risk of churning: top monetary quintile
-- (monetary_score 5, or 4 with 2+ orders) whose churn risk from the CLV model is medium
-- or high, or whose RFM segment says they are slipping away (cant_lose_them, at_risk,
-- hibernating, need_attention), and who have not lapsed yet. Highest predicted plus
-- historical value first.
select
    customers.customer_key,
    customers.full_name,
    customers.email,
    customers.phone,
    customers.net_revenue,
    customers.completed_orders,
    customers.days_since_last_order,
    rfm.rfm_segment,
    rfm.rfm_cell,
    customers.churn_risk,
    customers.probability_alive,
    customers.predicted_clv,
    customers.lifecycle_stage,
    customers.relationship_type,
    customers.account_manager_id,
    rank()
        over (order by coalesce(customers.predicted_clv, 0) + customers.net_revenue desc, customers.customer_key)
        as priority,
    customers.as_of_date
from {{ ref('dim_customer_360') }} as customers
inner join {{ ref('fct_customer_rfm') }} as rfm on customers.customer_key = rfm.customer_key
where (
    customers.churn_risk in ('medium', 'high')
    or rfm.rfm_segment in ('cant_lose_them', 'at_risk', 'hibernating', 'need_attention')
)
and (rfm.monetary_score = 5 or (rfm.monetary_score = 4 and rfm.frequency >= 2))
and customers.lifecycle_stage <> 'lapsed'
