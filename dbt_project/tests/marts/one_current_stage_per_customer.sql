-- Each customer of the identity map is in exactly one lifecycle stage.
select m.customer_key
from (select distinct customer_key from {{ ref('customer_identity_map') }}) as m
left join {{ ref('dim_customer_360') }} as d on m.customer_key = d.customer_key
group by m.customer_key
having count(d.lifecycle_stage) <> 1
