-- Flow-through (net flow, 净迁徙率) and cure rates per portfolio, asset class and month:
-- net flow from bucket i = balance in bucket i+1 at the next month end / balance in bucket i now;
-- cure rate from bucket i = share of its accounts current (M0) at the next month end.
with

states as (

    select * from {{ ref('int_loan_month_end_states') }}

),

monthly as (

    select * from {{ ref('fct_roll_rates_monthly') }}

),

bucket_balances as (

    select portfolio, asset_class, month_end, state, state_order, sum(outstanding_principal) as balance
    from states
    where state_order < 100
    group by portfolio, asset_class, month_end, state, state_order

),

cures as (

    select
        portfolio, asset_class, month_end, from_state,
        cast(sum(case when to_state_order = 0 then accounts else 0 end) as bigint) as cured_accounts,
        max(from_accounts) as from_accounts
    from monthly
    where asset_class <> 'all'
    group by portfolio, asset_class, month_end, from_state

),

final as (

    select
        this_bucket.portfolio,
        this_bucket.asset_class,
        this_bucket.month_end,
        this_bucket.state as from_bucket,
        next_bucket.state as to_bucket,
        {{ money('this_bucket.balance') }} as from_balance,
        {{ money('next_bucket.balance') }} as to_balance,
        cast(next_bucket.balance as double) / nullif(this_bucket.balance, 0) as net_flow_rate,
        cures.from_accounts,
        cures.cured_accounts,
        cast(cures.cured_accounts as double) / nullif(cures.from_accounts, 0) as cure_rate
    from bucket_balances as this_bucket
    inner join bucket_balances as next_bucket
        on this_bucket.portfolio = next_bucket.portfolio
        and this_bucket.asset_class = next_bucket.asset_class
        and next_bucket.month_end
            = cast({{ dbt.last_day(dbt.dateadd('day', 1, 'this_bucket.month_end'), 'month') }} as date)
        and next_bucket.state_order = this_bucket.state_order + 1
    left join cures
        on this_bucket.portfolio = cures.portfolio
        and this_bucket.asset_class = cures.asset_class
        and this_bucket.month_end = cures.month_end
        and this_bucket.state = cures.from_state

)

select * from final
