-- M = sum of Mi x Pi: each as-of date and asset class's total equals the sum of its buckets
-- (to a cent per bucket, the parts being rounded to cents).
select as_of_date, asset_class
from {{ ref('fct_expected_loss') }}
group by as_of_date, asset_class
having abs(max(total_expected_loss_markov) - sum(expected_loss_markov)) > 0.01 * count(*)
    or abs(max(total_expected_loss_cohort) - sum(expected_loss_cohort)) > 0.01 * count(*)
