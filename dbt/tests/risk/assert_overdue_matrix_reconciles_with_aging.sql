-- The overdue matrix holds the same accounts and amounts as the aging snapshot, day by day.
{{ config(tags=['daily'], meta={'dagster': {'ref': {'name': 'fct_overdue_matrix'}}}) }}
with

matrix as (

    select as_of_date, asset_class, sum(accounts) as accounts, sum(overdue_amount) as overdue_amount,
           sum(outstanding_principal) as outstanding_principal
    from {{ ref('fct_overdue_matrix') }}
    where as_of_date >= cast('{{ window_min_date() }}' as date) and as_of_date < cast('{{ window_max_date() }}' as date)
    group by as_of_date, asset_class

),

aging as (

    select as_of_date, asset_class, count(*) as accounts, sum(overdue_principal + overdue_interest) as overdue_amount,
           sum(outstanding_principal) as outstanding_principal
    from {{ ref('fct_loan_aging_daily') }}
    where status = 'active'
      and as_of_date >= cast('{{ window_min_date() }}' as date) and as_of_date < cast('{{ window_max_date() }}' as date)
    group by as_of_date, asset_class

)

select *
from matrix
full outer join aging using (as_of_date, asset_class)
where matrix.accounts is distinct from aging.accounts
   or matrix.overdue_amount is distinct from aging.overdue_amount
   or matrix.outstanding_principal is distinct from aging.outstanding_principal
