{#
  Expected loss (坏账预估) per book month end, asset class and bucket. Per loan: its exposure (the
  outstanding principal), its remaining life (months to maturity plus var
  remaining_life_tail_months), Pi(bucket, h) of its asset class from
  fct_bad_debt_probability_by_horizon (chain, credibility-blended) and its class's LGD from
  fct_loss_given_default. A loan that goes bad within h months first pays
  installments_paid_before_bad(i, h) installments, each repaying the share
  r / ((1 + r)^n - 1) of its principal (the annuity's next installment: r the monthly rate, n the
  installments left, its arrears included; 1 / n at a zero rate), so its exposure at default is
  EAD(h) = exposure x (1 - that share x those installments). Then, summed over the loans of the row:
  - expected_loss_12m: EAD(12) x Pi(i, min(12, life)) x LGD (beside it the same with the cohort's Pi);
  - expected_loss_remaining_life: EAD(life) x Pi(i, life) x LGD;
  - expected_loss_ifrs9: stage 1 at 12 months, stages 2 and 3 at remaining life (stage from the
    days past due and the seed regulatory_grades, as in fct_loan_regulatory_grades_daily);
  - bad_debt_estimate: the domain's M = sum Mi x Pi over the overdue buckets M1..M6+ only
    (Mi the outstanding balance, Pi to the end of life, no LGD); 0 for M0. bad_debt_estimate_m
    is M for the asset class (the sum over its buckets).
#}
with

states as (

    select * from {{ ref('int_loan_month_end_states') }}

),

loans as (

    select * from {{ ref('dim_loans') }}

),

probabilities as (

    select * from {{ ref('fct_bad_debt_probability_by_horizon') }} where portfolio = 'book'

),

loss_given_default as (

    select * from {{ ref('fct_loss_given_default') }}

),

ifrs9_stages as (

    select * from {{ ref('regulatory_grades') }} where framework = 'ifrs9_stage'

),

longest_horizon as (

    select max(horizon_months) as horizon_months from probabilities

),

loan_month_ends as (

    select
        states.month_end,
        states.loan_id,
        states.asset_class,
        states.state as bucket,
        states.state_order as bucket_order,
        states.outstanding_principal as exposure,
        states.overdue_amount,
        ifrs9_stages.grade as ifrs9_stage,
        cast(loans.interest_rate as double) / 12 as monthly_rate,
        {{ calendar_months_between('states.month_end', 'loans.maturity_date') }} as months_to_maturity,
        longest_horizon.horizon_months as longest_horizon_months
    from states
    inner join loans on states.loan_id = loans.loan_id
    cross join longest_horizon
    left join ifrs9_stages
        on states.days_past_due >= ifrs9_stages.min_days_past_due
        and (ifrs9_stages.max_days_past_due is null or states.days_past_due <= ifrs9_stages.max_days_past_due)
    where states.portfolio = 'book' and states.state_order < 100

),

loan_lives as (

    select
        *,
        -- the installments still to pay: those left to maturity and those in arrears
        greatest(1, months_to_maturity + bucket_order) as installments_left,
        least(greatest(months_to_maturity, 0) + {{ var('remaining_life_tail_months') }}, longest_horizon_months)
            as remaining_life_months
    from loan_month_ends

),

loan_principal_shares as (

    select
        *,
        case
            when monthly_rate > 0 then monthly_rate / (power(1 + monthly_rate, installments_left) - 1)
            else 1.0 / installments_left
        end as next_installment_share
    from loan_lives

),

loan_losses as (

    select
        loan_principal_shares.*,
        coalesce(loss_given_default.loss_given_default, 1) as loss_given_default,
        loss_given_default.lgd_source,
        twelve_months.markov_pi as pi_12m,
        twelve_months.cohort_pi as pi_12m_cohort,
        remaining_life.markov_pi as pi_remaining_life,
        loan_principal_shares.exposure * greatest(0, 1 - loan_principal_shares.next_installment_share
            * coalesce(twelve_months.installments_paid_before_bad, 0)) as exposure_at_default_12m,
        loan_principal_shares.exposure * greatest(0, 1 - loan_principal_shares.next_installment_share
            * coalesce(remaining_life.installments_paid_before_bad, 0)) as exposure_at_default_life
    from loan_principal_shares
    left join loss_given_default on loan_principal_shares.asset_class = loss_given_default.asset_class
    left join probabilities as twelve_months
        on loan_principal_shares.asset_class = twelve_months.asset_class
        and loan_principal_shares.bucket = twelve_months.bucket
        and twelve_months.horizon_months = least(12, loan_principal_shares.remaining_life_months)
    left join probabilities as remaining_life
        on loan_principal_shares.asset_class = remaining_life.asset_class
        and loan_principal_shares.bucket = remaining_life.bucket
        and remaining_life.horizon_months = loan_principal_shares.remaining_life_months

),

by_bucket as (

    select
        month_end,
        asset_class,
        bucket,
        bucket_order,
        count(*) as accounts,
        sum(exposure) as exposure,
        sum(overdue_amount) as overdue_amount,
        sum(exposure_at_default_12m) as exposure_at_default_12m,
        max(loss_given_default) as loss_given_default,
        max(lgd_source) as lgd_source,
        sum(exposure * pi_12m) / nullif(sum(exposure), 0) as pi_12m,
        max(pi_12m_cohort) as pi_12m_cohort,
        sum(exposure * pi_remaining_life) / nullif(sum(exposure), 0) as pi_remaining_life,
        sum(exposure_at_default_12m * pi_12m * loss_given_default) as expected_loss_12m,
        sum(exposure_at_default_12m * pi_12m_cohort * loss_given_default) as expected_loss_12m_cohort,
        sum(exposure_at_default_life * pi_remaining_life * loss_given_default) as expected_loss_remaining_life,
        sum(case
                when ifrs9_stage = 'stage_1' then exposure_at_default_12m * pi_12m
                else exposure_at_default_life * pi_remaining_life
            end * loss_given_default) as expected_loss_ifrs9,
        sum(case when bucket_order > 0 then exposure * pi_remaining_life else 0 end) as bad_debt_estimate
    from loan_losses
    group by month_end, asset_class, bucket, bucket_order

),

final as (

    select
        month_end,
        asset_class,
        bucket,
        bucket_order,
        accounts,
        {{ money('exposure') }} as exposure,
        {{ money('overdue_amount') }} as overdue_amount,
        {{ money('exposure_at_default_12m') }} as exposure_at_default_12m,
        cast(loss_given_default as double) as loss_given_default,
        lgd_source,
        pi_12m,
        pi_12m_cohort,
        pi_remaining_life,
        {{ money('expected_loss_12m') }} as expected_loss_12m,
        {{ money('expected_loss_12m_cohort') }} as expected_loss_12m_cohort,
        {{ money('expected_loss_remaining_life') }} as expected_loss_remaining_life,
        {{ money('expected_loss_ifrs9') }} as expected_loss_ifrs9,
        {{ money('bad_debt_estimate') }} as bad_debt_estimate,
        {{ money('sum(bad_debt_estimate) over (partition by month_end, asset_class)') }} as bad_debt_estimate_m
    from by_bucket

)

select * from final
