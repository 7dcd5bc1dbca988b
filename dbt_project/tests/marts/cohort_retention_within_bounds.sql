-- Cohort retention is a share: in [0, 1], and 1 in the cohort's own month.
select
    cohort_month,
    months_since_first_purchase,
    retention_share
from {{ ref('fct_retention_cohorts') }}
where retention_share < 0 or retention_share > 1
    or (months_since_first_purchase = 0 and retention_share <> 1)
