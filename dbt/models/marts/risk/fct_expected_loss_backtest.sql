-- Backtest of the expected loss: for each past book month end whose horizon has been observed,
-- the expected loss then against the principal actually written off in the horizon that
-- followed, from accounts open at that month end. Pi are today's estimates (in-sample).
with

expected as (

    select * from {{ ref('fct_expected_loss') }}

),

states as (

    select * from {{ ref('int_loan_month_end_states') }}

),

definitions as (

    select * from {{ ref('bad_debt_definitions') }} where portfolio = 'book'

),

last_month_end as (

    select max(month_end) as last_month_end from states where portfolio = 'book'

),

open_accounts as (

    select
        states.loan_id,
        states.asset_class,
        states.month_end,
        cast({{ dbt.last_day(dbt.dateadd('month', 'definitions.cohort_horizon_months', 'states.month_end'), 'month') }}
            as date) as horizon_end,
        definitions.cohort_horizon_months
    from states
    cross join definitions
    cross join last_month_end
    where states.portfolio = 'book' and states.state_order < 100
      and {{ dbt.last_day(dbt.dateadd('month', 'definitions.cohort_horizon_months', 'states.month_end'), 'month') }}
        <= last_month_end.last_month_end

),

actual as (

    select
        open_accounts.month_end as as_of_date,
        open_accounts.asset_class,
        max(open_accounts.cohort_horizon_months) as horizon_months,
        sum(case when later.state = 'written_off' then later.written_off_amount else 0 end) as actual_written_off
    from open_accounts
    left join states as later
        on later.portfolio = 'book'
        and open_accounts.loan_id = later.loan_id
        and later.month_end > open_accounts.month_end
        and later.month_end <= open_accounts.horizon_end
    group by open_accounts.month_end, open_accounts.asset_class

),

expected_by_class as (

    select as_of_date, asset_class, max(total_expected_loss_markov) as expected_loss_markov,
           max(total_expected_loss_cohort) as expected_loss_cohort
    from expected
    group by as_of_date, asset_class

),

final as (

    select
        actual.as_of_date,
        actual.asset_class,
        actual.horizon_months,
        expected_by_class.expected_loss_markov,
        expected_by_class.expected_loss_cohort,
        {{ money('actual.actual_written_off') }} as actual_written_off,
        cast(actual.actual_written_off as double) / nullif(expected_by_class.expected_loss_markov, 0)
            as actual_over_expected_markov
    from actual
    inner join expected_by_class
        on actual.as_of_date = expected_by_class.as_of_date
        and actual.asset_class = expected_by_class.asset_class

)

select * from final
