-- Combined indicators (principle 2): per loan and month end, the rules that fired in the
-- warning_score_window_days up to the month end, their summed weights as the score, and a
-- combined alert when at least combined_alert_min_rules distinct rules fired.
with

signals as (

    select * from {{ ref('fct_warning_signals') }}

),

month_ends as (

    select * from {{ ref('int_loan_month_end_states') }}
    where portfolio = 'book'

),

rule_hits as (

    select distinct
        month_ends.loan_id,
        month_ends.month_end,
        month_ends.state,
        signals.borrower_id,
        signals.rule_id,
        signals.weight
    from month_ends
    inner join signals
        on month_ends.loan_id = signals.loan_id
        and signals.signal_date <= month_ends.month_end
        and signals.signal_date > {{ dbt.dateadd(
            'day', '-' ~ collection_parameter('warning_score_window_days'), 'month_ends.month_end'
        ) }}

),

final as (

    select
        -- ids
        loan_id,
        borrower_id,

        -- attributes
        state,
        count(*) as rules_fired,
        {{ sorted_listagg('rule_id', "', '") }} as rule_ids,
        cast(sum(weight) as integer) as warning_score,
        count(*) >= {{ collection_parameter('combined_alert_min_rules') }} as is_combined_alert,

        -- dates
        month_end

    from rule_hits
    group by loan_id, borrower_id, state, month_end

)

select * from final
