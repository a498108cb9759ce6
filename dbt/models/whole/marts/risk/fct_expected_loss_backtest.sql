{#
  Backtest of the 12-month expected loss, like for like: for each past book month end whose
  horizon (var backtest_horizon_months) has been observed since, per asset class (and 'all') and
  method, the expected loss at that month end over the horizon against the loss that followed
  from the loans open then. actual_loss = the principal written off within the horizon x the
  LGD used in the expected loss (the LGD is checked on its own against the recoveries, in
  fct_loss_given_default), so both sides measure the same thing. Pi are today's estimates
  (in-sample). method: markov_12m (the published figure) or cohort_12m. The 95% interval of
  actual_over_expected is the noise of the realised loss alone (defaults as a compound Poisson
  sum: variance = the sum of the squared losses): a ratio whose interval holds 1 is a miss
  that one book's luck explains.
#}
{% set horizon = var('backtest_horizon_months') %}
with

expected as (

    select * from {{ ref('fct_expected_loss') }}

),

states as (

    select * from {{ ref('int_loan_month_end_states') }} where portfolio = 'book'

),

loss_given_default as (

    select * from {{ ref('fct_loss_given_default') }}

),

last_month_end as (

    select max(month_end) as last_month_end from states

),

open_accounts as (

    select states.loan_id, states.asset_class, states.month_end
    from states
    cross join last_month_end
    where states.state_order < 100
      and cast({{ dbt.last_day(dbt.dateadd('month', horizon, 'states.month_end'), 'month') }} as date)
        <= last_month_end.last_month_end

),

write_offs_in_horizon as (

    select
        open_accounts.month_end,
        open_accounts.asset_class,
        later.loan_id,
        later.written_off_amount
    from open_accounts
    inner join states as later
        on open_accounts.loan_id = later.loan_id
        and later.month_end > open_accounts.month_end
        and later.month_end <= cast({{ dbt.last_day(dbt.dateadd('month', horizon, 'open_accounts.month_end'),
                                                    'month') }} as date)
        and later.state = 'written_off'

),

actual_by_class as (

    select
        write_offs.month_end,
        write_offs.asset_class,
        count(distinct write_offs.loan_id) as actual_write_offs,
        sum(write_offs.written_off_amount) as actual_written_off,
        sum(write_offs.written_off_amount * coalesce(loss_given_default.loss_given_default, 1)) as actual_loss,
        -- the loss of a book is a sum over random defaults: its variance is about the sum of the squares
        sum(power(write_offs.written_off_amount * coalesce(loss_given_default.loss_given_default, 1), 2))
            as actual_loss_squares
    from (select distinct month_end, asset_class, loan_id, written_off_amount from write_offs_in_horizon)
        as write_offs
    left join loss_given_default on write_offs.asset_class = loss_given_default.asset_class
    group by write_offs.month_end, write_offs.asset_class

),

observed_month_ends as (

    select distinct month_end, asset_class from open_accounts

),

expected_by_class as (

    select month_end, asset_class, 'markov_12m' as method, sum(expected_loss_12m) as expected_loss
    from expected
    group by month_end, asset_class
    union all
    select month_end, asset_class, 'cohort_12m', sum(expected_loss_12m_cohort)
    from expected
    group by month_end, asset_class

),

rows_by_class as (

    select
        observed_month_ends.month_end,
        observed_month_ends.asset_class,
        expected_by_class.method,
        expected_by_class.expected_loss,
        coalesce(actual_by_class.actual_loss, 0) as actual_loss,
        coalesce(actual_by_class.actual_written_off, 0) as actual_written_off,
        coalesce(actual_by_class.actual_write_offs, 0) as actual_write_offs,
        coalesce(actual_by_class.actual_loss_squares, 0) as actual_loss_squares
    from observed_month_ends
    inner join expected_by_class
        on observed_month_ends.month_end = expected_by_class.month_end
        and observed_month_ends.asset_class = expected_by_class.asset_class
    left join actual_by_class
        on observed_month_ends.month_end = actual_by_class.month_end
        and observed_month_ends.asset_class = actual_by_class.asset_class

),

all_rows as (

    select * from rows_by_class
    union all
    select month_end, 'all', method, sum(expected_loss), sum(actual_loss), sum(actual_written_off),
           sum(actual_write_offs), sum(actual_loss_squares)
    from rows_by_class
    group by month_end, method

),

final as (

    select
        month_end,
        asset_class,
        method,
        cast({{ horizon }} as integer) as horizon_months,
        {{ money('expected_loss') }} as expected_loss,
        {{ money('actual_loss') }} as actual_loss,
        {{ money('actual_written_off') }} as actual_written_off,
        cast(actual_write_offs as bigint) as actual_write_offs,
        cast(actual_loss as double) / nullif(expected_loss, 0) as actual_over_expected,
        greatest(0, cast(actual_loss as double) - 1.96 * sqrt(actual_loss_squares)) / nullif(expected_loss, 0)
            as actual_over_expected_low,
        (cast(actual_loss as double) + 1.96 * sqrt(actual_loss_squares)) / nullif(expected_loss, 0)
            as actual_over_expected_high
    from all_rows

)

select * from final
