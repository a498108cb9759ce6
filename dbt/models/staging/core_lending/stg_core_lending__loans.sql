-- One row per loan: the latest landed version of its contract.
with

source as (

    select * from {{ source('core_lending', 'loans') }}
    where {{ passed_gate() }}

),

versions as (

    select
        *,
        row_number() over (
            partition by loan_id
            order by _landing_date desc, _source_file desc, _source_row desc
        ) as version_rank
    from source

),

renamed as (

    select
        -- ids
        loan_id,
        borrower_id,
        branch_id,
        guarantor_id,

        -- attributes
        asset_class,
        repayment_frequency,
        collateral_type,
        term_months,
        interest_rate,

        -- amounts
        principal_amount,
        collateral_value,
        monthly_income,

        -- dates
        origination_date,
        maturity_date,
        _landing_date as landed_on

    from versions
    where version_rank = 1

)

select * from renamed
