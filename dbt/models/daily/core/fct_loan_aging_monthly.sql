-- Month-end aging: the daily snapshot on the last day of each month, kept for roll rates
-- and Pi even when old daily rows are pruned.
{{ config(unique_key='month_end', partition_by='month_end' if target.type == 'spark' else none) }}

-- depends_on: {{ source('core_lending', 'landed_files') }}
{% set window = aging_window() %}

with

daily as (

    select * from {{ ref('fct_loan_aging_daily') }}

)

select
    loan_id,
    borrower_id,
    as_of_date as month_end,
    asset_class,
    status,
    bucket,
    days_past_due,
    principal_amount,
    outstanding_principal,
    overdue_principal,
    overdue_interest,
    cumulative_principal_due,
    cumulative_interest_due,
    cumulative_principal_paid,
    cumulative_interest_paid,
    cumulative_penalty_paid,
    written_off_amount,
    cumulative_recovered,
    oldest_unpaid_due_date,
    origination_date,
    closed_on
from daily
where as_of_date >= {{ date_literal(window.start) }}
  and as_of_date < {{ date_literal(window.end) }}
  and as_of_date = cast({{ dbt.last_day('as_of_date', 'month') }} as date)
  {% if window.is_empty %}and 1 = 0{% endif %}
