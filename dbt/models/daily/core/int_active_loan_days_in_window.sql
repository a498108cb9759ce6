-- The active loans' rows of the aging snapshot for the run's window: what the daily marts aggregate.
{{ config(materialized='ephemeral') }}

select *
from {{ ref('fct_loan_aging_daily') }}
where as_of_date >= cast('{{ window_min_date() }}' as date)
  and as_of_date < cast('{{ window_max_date() }}' as date)
  and status = 'active'
