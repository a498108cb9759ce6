-- M = sum of Mi x Pi: each month end and asset class's bad_debt_estimate_m equals the sum of its
-- buckets' bad_debt_estimate (to a cent per bucket, the parts being rounded to cents).
{{ config(meta={'dagster': {'ref': {'name': 'fct_expected_loss'}}}) }}  -- a check on this mart in Dagster
select month_end, asset_class
from {{ ref('fct_expected_loss') }}
group by month_end, asset_class
having abs(max(bad_debt_estimate_m) - sum(bad_debt_estimate)) > 0.01 * count(*)
