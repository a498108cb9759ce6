-- Expected loss (坏账预估) per book month end, asset class and bucket: M = sum_i Mi * Pi * LGD,
-- with Mi the outstanding principal in bucket i (exposure; the overdue amount beside it), Pi by
-- both methods of fct_bad_debt_probability, LGD from the seed loss_given_default (1 = the
-- domain's formula).
with

states as (

    select * from {{ ref('int_loan_month_end_states') }}

),

probabilities as (

    select * from {{ ref('fct_bad_debt_probability') }}

),

loss_given_default as (

    select * from {{ ref('loss_given_default') }}

),

exposures as (

    select
        month_end as as_of_date,
        asset_class,
        state as bucket,
        state_order as bucket_order,
        count(*) as accounts,
        sum(outstanding_principal) as exposure,
        sum(overdue_amount) as overdue_amount
    from states
    where portfolio = 'book' and state_order < 100
    group by month_end, asset_class, state, state_order

),

final as (

    select
        exposures.as_of_date,
        exposures.asset_class,
        exposures.bucket,
        exposures.bucket_order,
        exposures.accounts,
        {{ money('exposures.exposure') }} as exposure,
        {{ money('exposures.overdue_amount') }} as overdue_amount,
        probabilities.markov_pi,
        probabilities.cohort_pi,
        cast(coalesce(loss_given_default.loss_given_default, 1) as double) as loss_given_default,
        {{ money('exposures.exposure * probabilities.markov_pi * coalesce(loss_given_default.loss_given_default, 1)') }}
            as expected_loss_markov,
        {{ money('exposures.exposure * probabilities.cohort_pi * coalesce(loss_given_default.loss_given_default, 1)') }}
            as expected_loss_cohort,
        {{ money('sum(exposures.exposure * probabilities.markov_pi * coalesce(loss_given_default.loss_given_default, 1))'
                 ~ ' over (partition by exposures.as_of_date, exposures.asset_class)') }} as total_expected_loss_markov,
        {{ money('sum(exposures.exposure * probabilities.cohort_pi * coalesce(loss_given_default.loss_given_default, 1))'
                 ~ ' over (partition by exposures.as_of_date, exposures.asset_class)') }} as total_expected_loss_cohort
    from exposures
    left join probabilities
        on probabilities.portfolio = 'book'
        and exposures.asset_class = probabilities.asset_class
        and exposures.bucket = probabilities.bucket
    left join loss_given_default on exposures.asset_class = loss_given_default.asset_class

)

select * from final
