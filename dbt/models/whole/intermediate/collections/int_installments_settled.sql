-- Each installment with the first day the loan's payments covered it: the first value date on
-- which the running total of principal and interest paid (net of reversals, its highest level so
-- far) reached the total due through that installment. Null while it is unpaid.
-- Found in one pass per loan: installments and payment days sorted together by amount, each
-- installment takes the earliest date among the payment days at or above it.
with

schedules as (

    select * from {{ ref('int_repayment_schedules_accumulated') }}

),

repayments as (

    select * from {{ ref('stg_core_lending__repayments') }}

),

paid_per_day as (

    select
        loan_id,
        value_date,
        sum(signed_principal_paid + signed_interest_paid) as paid
    from repayments
    group by loan_id, value_date

),

paid_through as (

    select
        loan_id,
        value_date,
        sum(paid) over (
            partition by loan_id order by value_date rows between unbounded preceding and current row
        ) as paid_through
    from paid_per_day

),

points as (

    select
        loan_id,
        installment_number,
        amount_due_through as amount,
        0 as is_payment,
        due_date,
        cast(null as date) as value_date
    from schedules

    union all

    select
        loan_id,
        cast(null as integer) as installment_number,
        max(paid_through) over (
            partition by loan_id order by value_date rows between unbounded preceding and current row
        ) + {{ var('paid_tolerance') }} as amount,
        1 as is_payment,
        cast(null as date) as due_date,
        value_date
    from paid_through

),

settled as (

    select
        loan_id,
        installment_number,
        is_payment,
        due_date,
        min(value_date) over (
            partition by loan_id order by amount, is_payment rows between current row and unbounded following
        ) as settled_on
    from points

),

final as (

    select
        loan_id,
        installment_number,
        due_date,
        settled_on
    from settled
    where is_payment = 0

)

select * from final
