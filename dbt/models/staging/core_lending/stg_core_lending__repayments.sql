-- Payments and reversals. Signed amounts: a reversal takes back what its payment brought.
with

source as (

    select * from {{ source('core_lending', 'repayments') }}
    where {{ passed_gate() }}

),

renamed as (

    select
        -- ids
        payment_id,
        loan_id,
        reverses_payment_id,

        -- attributes
        payment_type,
        channel,
        payment_type = 'reversal' as is_reversal,

        -- amounts (as landed, never negative)
        amount,
        principal_paid,
        interest_paid,
        penalty_paid,

        -- amounts signed for running totals
        case when payment_type = 'reversal' then -1 else 1 end * principal_paid as signed_principal_paid,
        case when payment_type = 'reversal' then -1 else 1 end * interest_paid as signed_interest_paid,
        case when payment_type = 'reversal' then -1 else 1 end * penalty_paid as signed_penalty_paid,
        case when payment_type = 'reversal' then -1 else 1 end * amount as signed_amount,

        -- dates
        value_date,
        _landing_date as landed_on

    from source

)

select * from renamed
