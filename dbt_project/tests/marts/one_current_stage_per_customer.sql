-- Each customer of the 360 is in exactly one current stage, and it is the 360's stage.
select customers.customer_key
from {{ ref('dim_customer_360') }} as customers
left join {{ ref('fct_customer_lifecycle_history') }} as history
    on customers.customer_key = history.customer_key and history.is_current
group by customers.customer_key, customers.lifecycle_stage
having count(history.customer_key) <> 1
    or any_value(history.lifecycle_stage) <> customers.lifecycle_stage
