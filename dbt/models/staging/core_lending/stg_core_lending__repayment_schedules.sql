-- Every landed version of every schedule; int_repayment_schedules_accumulated keeps the latest.
with

source as (

    select * from {{ source('core_lending', 'repayment_schedule') }}
    where {{ passed_gate() }}

),

renamed as (

    select
        -- ids
        loan_id,
        installment_number,

        -- amounts
        principal_due,
        interest_due,
        {{ money('principal_due + interest_due') }} as amount_due,

        -- dates
        due_date,
        _landing_date as landed_on

    from source

)

select * from renamed
