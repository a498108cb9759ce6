-- One row per loan: its contract as last landed, built once for the marts that join loan attributes.
select
    loan_id,
    borrower_id,
    branch_id,
    guarantor_id,
    asset_class,
    repayment_frequency,
    collateral_type,
    term_months,
    interest_rate,
    principal_amount,
    collateral_value,
    monthly_income,
    origination_date,
    maturity_date,
    landed_on
from {{ ref('stg_core_lending__loans') }}
