{#
  Pi (坏账概率) per portfolio, asset class and bucket at the horizon of the portfolio's definition
  of bad (seed bad_debt_definitions), by the chain and by the cohort side by side, read from
  fct_bad_debt_probability_by_horizon (the whole term structure is there). methods_agree says
  whether the two agree within var pi_reconciliation_factor times the half-width of the cohort's
  95% interval (or within pi_reconciliation_floor); the publication stops on a row where they do not.
#}
with

by_horizon as (

    select * from {{ ref('fct_bad_debt_probability_by_horizon') }}

),

pooled as (

    select * from {{ ref('fct_roll_rates_pooled') }}

),

definitions as (

    select * from {{ ref('int_bad_debt_definitions') }}

),

windows as (

    select portfolio, min(window_first_month_end) as window_first_month_end,
           max(window_last_month_end) as window_last_month_end
    from pooled
    group by portfolio

),

blending as (

    select portfolio, asset_class, min(credibility_weight) < 1 as uses_blended_rows
    from by_horizon
    where horizon_months = 1
    group by portfolio, asset_class

),

final as (

    select
        by_horizon.portfolio,
        by_horizon.asset_class,
        by_horizon.bucket,
        by_horizon.bucket_order,
        by_horizon.bad_definition,
        definitions.cohort_horizon_months,

        by_horizon.markov_pi as markov_pi_within_horizon,
        by_horizon.expected_months_open,
        by_horizon.transitions_observed,
        by_horizon.credibility_weight,
        blending.uses_blended_rows,
        windows.window_first_month_end,
        windows.window_last_month_end,

        by_horizon.cohort_pi,
        by_horizon.cohort_pi_low,
        by_horizon.cohort_pi_high,
        by_horizon.cohort_accounts,
        by_horizon.cohort_bad_accounts,

        by_horizon.cohort_pi is null
            or abs(by_horizon.markov_pi - by_horizon.cohort_pi) <= greatest(
                {{ var('pi_reconciliation_factor') }} * (by_horizon.cohort_pi_high - by_horizon.cohort_pi_low) / 2,
                {{ var('pi_reconciliation_floor') }}) as methods_agree

    from by_horizon
    inner join definitions
        on by_horizon.portfolio = definitions.portfolio
        and by_horizon.horizon_months = definitions.cohort_horizon_months
    inner join windows on by_horizon.portfolio = windows.portfolio
    inner join blending
        on by_horizon.portfolio = blending.portfolio and by_horizon.asset_class = blending.asset_class

)

select * from final
