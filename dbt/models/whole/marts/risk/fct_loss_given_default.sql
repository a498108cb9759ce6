{#
  Loss given default (违约损失率) per asset class from the book's own recoveries (workout LGD):
  payments on or after a loan's write-off date are recoveries. A workout is complete once
  var workout_months have passed since the write-off (by the last landed day); only complete
  workouts count. LGD = 1 - (recoveries discounted to the write-off date at the loan's own rate)
  / written-off amount, over the class's complete workouts, with a 95% interval (ratio estimator).
  Where fewer than var lgd_min_mature_workouts are complete, the seed loss_given_default is used
  (lgd_source says which). recovery_rate is the undiscounted share recovered.
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

seed as (

    select * from {{ ref('loss_given_default') }}

),

as_of as (

    select max(landing_date) as as_of_date from {{ source('core_lending', 'landed_files') }}

),

recoveries as (

    select
        write_offs.loan_id,
        sum(repayments.signed_amount) as recovered,
        sum(repayments.signed_amount / power(1 + coalesce(loans.interest_rate, 0),
            {{ dbt.datediff('write_offs.write_off_date', 'repayments.value_date', 'day') }} / 365.0))
            as recovered_discounted
    from write_offs
    inner join repayments
        on write_offs.loan_id = repayments.loan_id and repayments.value_date >= write_offs.write_off_date
    inner join loans on write_offs.loan_id = loans.loan_id
    group by write_offs.loan_id

),

workouts as (

    select
        write_offs.loan_id,
        loans.asset_class,
        cast(write_offs.written_off_amount as double) as written_off,
        cast(coalesce(recoveries.recovered, 0) as double) as recovered,
        cast(coalesce(recoveries.recovered_discounted, 0) as double) as recovered_discounted
    from write_offs
    inner join loans on write_offs.loan_id = loans.loan_id
    cross join as_of
    left join recoveries on write_offs.loan_id = recoveries.loan_id
    where write_offs.written_off_amount > 0
      and write_offs.write_off_date <= {{ dbt.dateadd('month', -var('workout_months'), 'as_of.as_of_date') }}

),

class_sums as (

    select
        asset_class,
        count(*) as complete_workouts,
        sum(written_off) as written_off,
        sum(recovered) as recovered,
        sum(recovered_discounted) as recovered_discounted
    from workouts
    group by asset_class

),

class_spread as (

    -- standard error of the ratio estimator sum(r) / sum(w): sqrt(n / (n - 1) * sum((r - rate * w)^2)) / sum(w)
    select
        workouts.asset_class,
        sqrt(cast(count(*) as double) / greatest(count(*) - 1, 1) * sum(power(workouts.recovered_discounted
            - class_sums.recovered_discounted / class_sums.written_off * workouts.written_off, 2)))
            / max(class_sums.written_off) as lgd_standard_error,
        sqrt(cast(count(*) as double) / greatest(count(*) - 1, 1) * sum(power(workouts.recovered
            - class_sums.recovered / class_sums.written_off * workouts.written_off, 2)))
            / max(class_sums.written_off) as recovery_rate_standard_error
    from workouts
    inner join class_sums on workouts.asset_class = class_sums.asset_class
    group by workouts.asset_class

),

classes as (

    select asset_class from seed
    union
    select asset_class from class_sums

),

final as (

    select
        classes.asset_class,
        cast(coalesce(class_sums.complete_workouts, 0) as bigint) as complete_workouts,
        {{ money('class_sums.written_off') }} as written_off_amount,
        {{ money('class_sums.recovered') }} as recovered_amount,
        class_sums.recovered / class_sums.written_off as recovery_rate,
        class_sums.recovered / class_sums.written_off - 1.96 * class_spread.recovery_rate_standard_error
            as recovery_rate_low,
        class_sums.recovered / class_sums.written_off + 1.96 * class_spread.recovery_rate_standard_error
            as recovery_rate_high,
        -- (greatest and least skip nulls: the case keeps a class without workouts empty)
        case when class_sums.written_off > 0 then
            greatest(0, least(1, 1 - class_sums.recovered_discounted / class_sums.written_off)) end as workout_lgd,
        case when class_sums.written_off > 0 then greatest(0, 1 - class_sums.recovered_discounted
            / class_sums.written_off - 1.96 * class_spread.lgd_standard_error) end as workout_lgd_low,
        case when class_sums.written_off > 0 then least(1, 1 - class_sums.recovered_discounted
            / class_sums.written_off + 1.96 * class_spread.lgd_standard_error) end as workout_lgd_high,
        cast(seed.loss_given_default as double) as seed_loss_given_default,
        case when coalesce(class_sums.complete_workouts, 0) >= {{ var('lgd_min_mature_workouts') }}
            then greatest(0, least(1, 1 - class_sums.recovered_discounted / class_sums.written_off))
            else cast(coalesce(seed.loss_given_default, 1) as double) end as loss_given_default,
        case when coalesce(class_sums.complete_workouts, 0) >= {{ var('lgd_min_mature_workouts') }}
            then 'workout' else 'seed' end as lgd_source
    from classes
    left join class_sums on classes.asset_class = class_sums.asset_class
    left join class_spread on classes.asset_class = class_spread.asset_class
    left join seed on classes.asset_class = seed.asset_class

)

select * from final
