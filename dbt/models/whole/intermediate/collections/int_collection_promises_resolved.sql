-- One row per promise to pay (承诺还款), matched with the payments in its window.
-- A promise made on action_date for promise_amount by promise_date is
--   kept    when net payments (reversals subtract) with value dates in [action_date, promise_date]
--           reach promise_amount (less paid_tolerance);
--   partial when they are positive but short of it;
--   broken  when nothing (net) was paid in the window;
--   pending while the window is still open on the last aged day and the promise is not yet kept.
-- Every promise is judged on its own window: one payment can keep two promises whose windows overlap.
with

actions as (

    select * from {{ ref('stg_core_lending__collection_actions') }}

),

repayments as (

    select * from {{ ref('stg_core_lending__repayments') }}

),

aging as (

    select * from {{ ref('fct_loan_aging_daily') }}

),

promises as (

    select * from actions
    where has_promise

),

paid_in_window as (

    select
        promises.action_id,
        coalesce(sum(repayments.signed_amount), 0) as paid_in_window
    from promises
    left join repayments
        on promises.loan_id = repayments.loan_id
        and repayments.value_date >= promises.action_date
        and repayments.value_date <= promises.promise_date
    group by promises.action_id

),

resolved as (

    select
        -- ids
        promises.action_id,
        promises.loan_id,
        promises.collector_id,
        promises.team_id,

        -- attributes
        case
            when paid_in_window.paid_in_window >= promises.promise_amount - {{ var('paid_tolerance') }} then 'kept'
            when promises.promise_date > (select max(as_of_date) from aging) then 'pending'
            when paid_in_window.paid_in_window > {{ var('paid_tolerance') }} then 'partial'
            else 'broken'
        end as promise_status,

        -- amounts
        promises.promise_amount,
        paid_in_window.paid_in_window,
        least(greatest(paid_in_window.paid_in_window, 0), promises.promise_amount) as collected_amount,

        -- dates
        promises.action_date,
        promises.promise_date,
        cast({{ dbt.dateadd('day', 1, 'promises.promise_date') }} as date) as window_closed_on

    from promises
    inner join paid_in_window on promises.action_id = paid_in_window.action_id

)

select * from resolved
