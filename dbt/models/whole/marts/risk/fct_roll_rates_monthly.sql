-- Roll rates (迁徙率): month-end to month-end transitions between states, per portfolio, asset
-- class (and 'all') and month, by account count and by balance at the first month end.
with

transitions as (

    select * from {{ ref('int_loan_state_transitions') }}

),

by_class as (

    select portfolio, asset_class, month_end, from_state, from_state_order, to_state, to_state_order,
           count(*) as accounts, sum(from_balance) as balance
    from transitions
    group by portfolio, asset_class, month_end, from_state, from_state_order, to_state, to_state_order

    union all

    select portfolio, 'all' as asset_class, month_end, from_state, from_state_order, to_state, to_state_order,
           count(*) as accounts, sum(from_balance) as balance
    from transitions
    group by portfolio, month_end, from_state, from_state_order, to_state, to_state_order

),

final as (

    select
        portfolio,
        asset_class,
        month_end,
        cast({{ dbt.last_day(dbt.dateadd('day', 1, 'month_end'), 'month') }} as date) as next_month_end,
        from_state,
        from_state_order,
        to_state,
        to_state_order,
        accounts,
        {{ money('balance') }} as balance,
        cast(sum(accounts) over (partition by portfolio, asset_class, month_end, from_state) as bigint)
            as from_accounts,
        {{ money('sum(balance) over (partition by portfolio, asset_class, month_end, from_state)') }} as from_balance,
        cast(accounts as double)
            / sum(accounts) over (partition by portfolio, asset_class, month_end, from_state) as account_rate,
        cast(balance as double)
            / nullif(sum(balance) over (partition by portfolio, asset_class, month_end, from_state), 0)
            as balance_rate
    from by_class

)

select * from final
