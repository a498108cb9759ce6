-- Installments of each loan's latest schedule with the running total due, so that the
-- installment a payment total reaches is found by a range join, not a scan per loan.
-- Incremental: a run recomputes only the loans whose schedule landed in its window (on Spark,
-- whose plain Parquet tables cannot replace rows by key, a table rebuilt each run).
{{ config(unique_key='loan_id', schema='intermediate', partition_by=none,
          materialized='table' if target.type == 'spark' else 'incremental') }}

-- depends_on: {{ source('core_lending', 'landed_files') }}
{% set window = aging_window() %}

with

schedules as (

    select * from {{ ref('stg_core_lending__repayment_schedules') }}

),

{% if is_incremental() %}
landed_in_window as (

    select distinct loan_id
    from schedules
    where landed_on >= {{ date_literal(window.start) }}
      and landed_on < {{ date_literal(window.end) }}
      {% if window.is_empty %}and 1 = 0{% endif %}

),

candidate_versions as (

    select schedules.*
    from schedules
    inner join landed_in_window using (loan_id)

),
{% else %}
candidate_versions as (

    select * from schedules

),
{% endif %}

latest_versions as (

    select
        *,
        max(landed_on) over (partition by loan_id) as latest_landed_on
    from candidate_versions

),

accumulated as (

    select
        -- ids
        loan_id,
        installment_number,

        -- amounts
        principal_due,
        interest_due,
        amount_due,
        sum(amount_due) over (
            partition by loan_id order by installment_number rows between unbounded preceding and current row
        ) - amount_due as amount_due_before,
        sum(amount_due) over (
            partition by loan_id order by installment_number rows between unbounded preceding and current row
        ) as amount_due_through,

        -- dates
        due_date,
        landed_on

    from latest_versions
    where landed_on = latest_landed_on

)

select * from accumulated
