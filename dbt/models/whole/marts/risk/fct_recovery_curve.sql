{#
  Recovery curve per asset class: of the amounts written off at least m months before the last
  landed day, the share recovered within m months of the write-off (undiscounted), for m from 1
  to twice var workout_months. It shows when a workout is complete (the curve flattens).
#}
with

write_offs as (

    select * from {{ ref('stg_core_lending__write_offs') }}

),

repayments as (

    select * from {{ ref('stg_core_lending__repayments') }}

),

loans as (

    select * from {{ ref('dim_loans') }}

),

as_of as (

    select max(landing_date) as as_of_date from {{ source('core_lending', 'landed_files') }}

),

months as (

    {% for m in range(1, 2 * var('workout_months') + 1) %}
    select {{ m }} as months_since_write_off
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

observed as (

    select
        write_offs.loan_id,
        loans.asset_class,
        write_offs.write_off_date,
        write_offs.written_off_amount,
        months.months_since_write_off
    from write_offs
    inner join loans on write_offs.loan_id = loans.loan_id
    cross join months
    cross join as_of
    where write_offs.written_off_amount > 0
      and write_offs.write_off_date
        <= {{ dbt.dateadd('month', '-months.months_since_write_off', 'as_of.as_of_date') }}

),

recovered as (

    select
        observed.loan_id,
        observed.months_since_write_off,
        sum(repayments.signed_amount) as recovered
    from observed
    inner join repayments
        on observed.loan_id = repayments.loan_id
        and repayments.value_date >= observed.write_off_date
        and repayments.value_date
            < {{ dbt.dateadd('month', 'observed.months_since_write_off', 'observed.write_off_date') }}
    group by observed.loan_id, observed.months_since_write_off

),

final as (

    select
        observed.asset_class,
        cast(observed.months_since_write_off as integer) as months_since_write_off,
        cast(count(*) as bigint) as write_offs_observed,
        {{ money('sum(observed.written_off_amount)') }} as written_off_amount,
        {{ money('sum(coalesce(recovered.recovered, 0))') }} as recovered_amount,
        cast(sum(coalesce(recovered.recovered, 0)) as double) / sum(observed.written_off_amount)
            as cumulative_recovery_rate
    from observed
    left join recovered
        on observed.loan_id = recovered.loan_id
        and observed.months_since_write_off = recovered.months_since_write_off
    group by observed.asset_class, observed.months_since_write_off

)

select * from final
