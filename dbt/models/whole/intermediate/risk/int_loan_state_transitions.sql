-- Month-end to month-end moves of every account open at the first month end. An account
-- missing at the next month end (a tape that lost it) is censored, not counted.
with

states as (

    select * from {{ ref('int_loan_month_end_states') }}

),

transitions as (

    select
        this_month.portfolio,
        this_month.loan_id,
        this_month.asset_class,
        this_month.month_end,
        this_month.state as from_state,
        this_month.state_order as from_state_order,
        next_month.state as to_state,
        next_month.state_order as to_state_order,
        this_month.outstanding_principal as from_balance
    from states as this_month
    inner join states as next_month
        on this_month.portfolio = next_month.portfolio
        and this_month.loan_id = next_month.loan_id
        and next_month.month_end = cast({{ dbt.last_day(dbt.dateadd('day', 1, 'this_month.month_end'), 'month') }} as date)
    where this_month.state_order < 100

)

select * from transitions
