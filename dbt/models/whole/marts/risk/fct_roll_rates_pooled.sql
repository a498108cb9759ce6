-- Pooled roll-rate matrix over the trailing var('roll_rate_window_months') months of transitions
-- of each portfolio: the matrix the Markov Pi is computed from.
with

monthly as (

    select * from {{ ref('fct_roll_rates_monthly') }}

),

windows as (

    select
        portfolio,
        max(month_end) as window_last_month_end,
        greatest(
            min(month_end),
            cast({{ dbt.last_day(dbt.dateadd('month', 1 - var('roll_rate_window_months'), 'max(month_end)'), 'month') }}
                as date)
        ) as window_first_month_end
    from monthly
    group by portfolio

),

pooled as (

    select
        monthly.portfolio,
        monthly.asset_class,
        monthly.from_state,
        monthly.from_state_order,
        monthly.to_state,
        monthly.to_state_order,
        windows.window_first_month_end,
        windows.window_last_month_end,
        cast(sum(monthly.accounts) as bigint) as accounts,
        sum(monthly.balance) as balance
    from monthly
    inner join windows
        on monthly.portfolio = windows.portfolio
        and monthly.month_end >= windows.window_first_month_end
        and monthly.month_end <= windows.window_last_month_end
    group by monthly.portfolio, monthly.asset_class, monthly.from_state, monthly.from_state_order,
        monthly.to_state, monthly.to_state_order, windows.window_first_month_end, windows.window_last_month_end

),

final as (

    select
        portfolio,
        asset_class,
        from_state,
        from_state_order,
        to_state,
        to_state_order,
        accounts,
        {{ money('balance') }} as balance,
        cast(sum(accounts) over (partition by portfolio, asset_class, from_state) as bigint) as from_accounts,
        cast(accounts as double) / sum(accounts) over (partition by portfolio, asset_class, from_state)
            as account_rate,
        cast(balance as double) / nullif(sum(balance) over (partition by portfolio, asset_class, from_state), 0)
            as balance_rate,
        window_first_month_end,
        window_last_month_end
    from pooled

)

select * from final
