-- How well each warning rule predicts: of the book's loans in M0 or M1 at a month end, the share
-- that is M2 or worse (or written off) at the next month end, for loans the rule flagged in the
-- month up to that month end against the loans it did not flag. lift = flagged / unflagged share.
-- The pseudo-rule 'combined' is the combined alert of fct_loan_warning_scores_monthly.
-- Pooled over every month end with a next month end.
with

transitions as (

    select * from {{ ref('int_loan_state_transitions') }}
    where portfolio = 'book'

),

rules as (

    select * from {{ ref('warning_rules') }}

),

signals as (

    select * from {{ ref('fct_warning_signals') }}

),

scores as (

    select * from {{ ref('fct_loan_warning_scores_monthly') }}

),

at_risk as (

    select
        loan_id,
        month_end,
        case when to_state_order >= 2 and to_state_order <> 100 then 1 else 0 end as rolled
    from transitions
    where from_state_order <= 1

),

flags as (

    select distinct
        signals.rule_id,
        at_risk.loan_id,
        at_risk.month_end
    from at_risk
    inner join signals
        on at_risk.loan_id = signals.loan_id
        and signals.signal_date <= at_risk.month_end
        and signals.signal_date > cast({{ dbt.dateadd('month', -1, 'at_risk.month_end') }} as date)

    union all

    select
        'combined' as rule_id,
        scores.loan_id,
        scores.month_end
    from scores
    inner join at_risk on scores.loan_id = at_risk.loan_id and scores.month_end = at_risk.month_end
    where scores.is_combined_alert

),

all_rules as (

    select rule_id, name_en as rule_name from rules
    union all
    select 'combined' as rule_id, 'combined alert' as rule_name

),

totals as (

    select
        count(distinct month_end) as month_ends,
        count(*) as loans,
        cast(coalesce(sum(rolled), 0) as bigint) as rolled
    from at_risk

),

flagged as (

    select
        flags.rule_id,
        count(*) as flagged_loans,
        cast(sum(at_risk.rolled) as bigint) as flagged_rolled
    from flags
    inner join at_risk on flags.loan_id = at_risk.loan_id and flags.month_end = at_risk.month_end
    group by flags.rule_id

),

counted as (

    select
        all_rules.rule_id,
        all_rules.rule_name,
        totals.month_ends,
        coalesce(flagged.flagged_loans, 0) as flagged_loans,
        coalesce(flagged.flagged_rolled, 0) as flagged_rolled,
        totals.loans - coalesce(flagged.flagged_loans, 0) as unflagged_loans,
        totals.rolled - coalesce(flagged.flagged_rolled, 0) as unflagged_rolled
    from all_rules
    cross join totals
    left join flagged on all_rules.rule_id = flagged.rule_id

),

final as (

    select
        *,
        {{ ratio('flagged_rolled', 'flagged_loans') }} as flagged_roll_rate,
        {{ ratio('unflagged_rolled', 'unflagged_loans') }} as unflagged_roll_rate,
        {{ ratio('flagged_rolled', 'flagged_loans') }}
            / nullif({{ ratio('unflagged_rolled', 'unflagged_loans') }}, 0) as lift
    from counted

)

select * from final
