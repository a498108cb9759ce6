{#
  Daily aging snapshot (逾期账龄): one row per loan and as-of date.

  A loan's state changes only on event days: disbursement, a payment or
  reversal, the day after an installment falls due, a write-off. The model
  builds the state after each event day (running totals), finds the oldest
  installment the payments have not covered, and spreads each state over
  the as-of dates until the loan's next event.

  When the day before the window is already aged, the run starts from that
  day's rows (the "opening" state) and reads only the window's events, so a
  daily run costs the same on day 30 and on day 365. Otherwise it replays
  the loans' whole history.
#}
{{ config(post_hook="{{ prune_daily_history() }}") }}

-- depends_on: {{ source('core_lending', 'landed_files') }}
{% set window = aging_window() %}
{% set chained = previous_day_is_aged(window) %}
{% set window_start = date_literal(window.start) %}
{% set window_end = date_literal(window.end) %}
{% set tolerance = var('paid_tolerance') %}

with

loans as (

    select * from {{ ref('stg_core_lending__loans') }}

),

schedules as (

    select * from {{ ref('int_repayment_schedules_accumulated') }}

),

repayments as (

    select * from {{ ref('stg_core_lending__repayments') }}

),

write_offs as (

    select * from {{ ref('stg_core_lending__write_offs') }}

),

-- depends_on: {{ ref('delinquency_buckets') }}
as_of_dates as (

    select cast(date_day as date) as as_of_date
    from ({{ dbt.date_spine('day', window_start, window_end) }}) as spine
    {% if window.is_empty %}where 1 = 0{% endif %}

),

{% if chained %}
opening_states as (

    select
        loan_id,
        {{ window_start }} as event_date,
        cumulative_principal_paid as principal_paid,
        cumulative_interest_paid as interest_paid,
        cumulative_penalty_paid as penalty_paid,
        cumulative_recovered as recovered,
        cumulative_principal_due as principal_due,
        cumulative_interest_due as interest_due,
        written_off_amount,
        case when status = 'written_off' then 1 else 0 end as is_write_off,
        0 as is_status_event,
        case when status = 'paid_off' then 1 else 0 end as opening_settled,
        closed_on as opening_closed_on
    from {{ this }}
    where as_of_date = {{ dbt.dateadd('day', -1, window_start) }}

),

loans_with_events_in_window as (

    -- A loan that left the snapshot (closed in an earlier month) comes back when anything
    -- happens to it: a reversal reopens it, a recovery or write-off changes it.
    select loan_id from loans
    where origination_date >= {{ window_start }} and origination_date < {{ window_end }}
    union
    select loan_id from repayments
    where value_date >= {{ window_start }} and value_date < {{ window_end }}
    union
    select loan_id from write_offs
    where write_off_date >= {{ window_start }} and write_off_date < {{ window_end }}

),

loans_in_play as (

    -- Loans aged the day before carry their state from it; every other loan with an event in
    -- the window replays its whole history.
    select loan_id, {{ window_start }} as events_from from opening_states
    union all
    select loans_with_events_in_window.loan_id, cast('1900-01-01' as date) as events_from
    from loans_with_events_in_window
    left join opening_states on loans_with_events_in_window.loan_id = opening_states.loan_id
    where opening_states.loan_id is null

),
{% else %}
loans_in_play as (

    select loan_id, cast('1900-01-01' as date) as events_from from loans
    where origination_date < {{ window_end }}

),
{% endif %}

disbursements as (

    select
        loan_id,
        origination_date as event_date,
        0 as principal_paid,
        0 as interest_paid,
        0 as penalty_paid,
        0 as recovered,
        0 as principal_due,
        0 as interest_due,
        0 as written_off_amount,
        0 as is_write_off,
        0 as is_status_event,
        cast(null as integer) as opening_settled,
        cast(null as date) as opening_closed_on
    from loans
    inner join loans_in_play using (loan_id)
    where origination_date >= loans_in_play.events_from and origination_date < {{ window_end }}

),

payments as (

    -- Payments on or after the write-off date are recoveries; they leave the loan written off.
    select
        repayments.loan_id,
        repayments.value_date as event_date,
        case when write_offs.write_off_date <= repayments.value_date then 0
            else repayments.signed_principal_paid end as principal_paid,
        case when write_offs.write_off_date <= repayments.value_date then 0
            else repayments.signed_interest_paid end as interest_paid,
        case when write_offs.write_off_date <= repayments.value_date then 0
            else repayments.signed_penalty_paid end as penalty_paid,
        case when write_offs.write_off_date <= repayments.value_date then repayments.signed_amount
            else 0 end as recovered,
        0 as principal_due,
        0 as interest_due,
        0 as written_off_amount,
        0 as is_write_off,
        case when write_offs.write_off_date <= repayments.value_date then 0 else 1 end as is_status_event,
        cast(null as integer) as opening_settled,
        cast(null as date) as opening_closed_on
    from repayments
    inner join loans_in_play using (loan_id)
    left join write_offs on repayments.loan_id = write_offs.loan_id
    where repayments.value_date >= loans_in_play.events_from and repayments.value_date < {{ window_end }}

),

installments_falling_due as (

    -- An installment unpaid at the end of its due date is overdue from the next day.
    select
        schedules.loan_id,
        {{ dbt.dateadd('day', 1, 'schedules.due_date') }} as event_date,
        0 as principal_paid,
        0 as interest_paid,
        0 as penalty_paid,
        0 as recovered,
        schedules.principal_due,
        schedules.interest_due,
        0 as written_off_amount,
        0 as is_write_off,
        0 as is_status_event,
        cast(null as integer) as opening_settled,
        cast(null as date) as opening_closed_on
    from schedules
    inner join loans_in_play using (loan_id)
    where schedules.due_date >= {{ dbt.dateadd('day', -1, 'loans_in_play.events_from') }}
      and schedules.due_date < {{ dbt.dateadd('day', -1, window_end) }}

),

write_off_events as (

    select
        write_offs.loan_id,
        write_offs.write_off_date as event_date,
        0 as principal_paid,
        0 as interest_paid,
        0 as penalty_paid,
        0 as recovered,
        0 as principal_due,
        0 as interest_due,
        write_offs.written_off_amount,
        1 as is_write_off,
        1 as is_status_event,
        cast(null as integer) as opening_settled,
        cast(null as date) as opening_closed_on
    from write_offs
    inner join loans_in_play using (loan_id)
    where write_offs.write_off_date >= loans_in_play.events_from and write_offs.write_off_date < {{ window_end }}

),

events as (

    {% if chained %}select * from opening_states union all{% endif %}
    select * from disbursements
    union all
    select * from payments
    union all
    select * from installments_falling_due
    union all
    select * from write_off_events

),

event_days as (

    select
        loan_id,
        cast(event_date as date) as event_date,
        sum(principal_paid) as principal_paid,
        sum(interest_paid) as interest_paid,
        sum(penalty_paid) as penalty_paid,
        sum(recovered) as recovered,
        sum(principal_due) as principal_due,
        sum(interest_due) as interest_due,
        sum(written_off_amount) as written_off_amount,
        max(is_write_off) as is_write_off,
        max(is_status_event) as is_status_event,
        max(opening_settled) as opening_settled,
        max(opening_closed_on) as opening_closed_on
    from events
    group by loan_id, cast(event_date as date)

),

states as (

    -- The loan after each event day: running totals of everything up to that day.
    {% set history = "partition by loan_id order by event_date rows between unbounded preceding and current row" %}
    select
        loan_id,
        event_date,
        lead(event_date) over (partition by loan_id order by event_date) as next_event_date,
        {{ money('sum(principal_paid) over (' ~ history ~ ')') }} as cumulative_principal_paid,
        {{ money('sum(interest_paid) over (' ~ history ~ ')') }} as cumulative_interest_paid,
        {{ money('sum(penalty_paid) over (' ~ history ~ ')') }} as cumulative_penalty_paid,
        {{ money('sum(recovered) over (' ~ history ~ ')') }} as cumulative_recovered,
        {{ money('sum(principal_due) over (' ~ history ~ ')') }} as cumulative_principal_due,
        {{ money('sum(interest_due) over (' ~ history ~ ')') }} as cumulative_interest_due,
        {{ money('sum(written_off_amount) over (' ~ history ~ ')') }} as written_off_amount,
        max(is_write_off) over ({{ history }}) as is_written_off,
        max(case when is_status_event = 1 then event_date end) over ({{ history }}) as last_status_event_on,
        max(case when is_status_event = 1 or opening_settled is not null then event_date end)
            over ({{ history }}) as last_settlement_on,
        is_status_event,
        opening_settled,
        max(opening_closed_on) over (partition by loan_id) as opening_closed_on
    from event_days

),

settlements as (

    -- A loan is paid off when, after its latest payment or reversal, nothing is owed: all the
    -- principal and the interest of every installment already due. Installments falling due
    -- later do not reopen it (a prepayment waives their interest); a reversal does.
    select
        states.*,
        loans.borrower_id,
        loans.asset_class,
        loans.origination_date,
        loans.principal_amount,
        case
            when states.is_status_event = 1 then
                case when states.cumulative_principal_paid >= loans.principal_amount - {{ tolerance }}
                    and states.cumulative_interest_paid >= states.cumulative_interest_due - {{ tolerance }}
                    then 1 else 0 end
            else states.opening_settled
        end as settled_here
    from states
    inner join loans using (loan_id)

),

states_with_status as (

    select
        settlements.*,
        case
            when settlements.is_written_off = 1 then 'written_off'
            when max(settlements.settled_here) over (
                partition by settlements.loan_id, settlements.last_settlement_on) = 1 then 'paid_off'
            else 'active'
        end as status
    from settlements

),

oldest_unpaid as (

    -- Payments settle the oldest amount due first: the first installment whose running total
    -- due exceeds everything paid is the oldest not fully paid.
    select
        states_with_status.loan_id,
        states_with_status.event_date,
        schedules.due_date as oldest_unpaid_due_date
    from states_with_status
    inner join schedules
        on states_with_status.loan_id = schedules.loan_id
        and schedules.amount_due_before
            <= states_with_status.cumulative_principal_paid + states_with_status.cumulative_interest_paid + {{ tolerance }}
        and schedules.amount_due_through
            > states_with_status.cumulative_principal_paid + states_with_status.cumulative_interest_paid + {{ tolerance }}
    where states_with_status.status = 'active'

),

state_balances as (

    -- Everything but days past due is constant from one event day to the next.
    select
        states_with_status.loan_id,
        states_with_status.borrower_id,
        states_with_status.asset_class,
        states_with_status.status,
        states_with_status.event_date,
        states_with_status.next_event_date,
        states_with_status.principal_amount,
        case when states_with_status.status = 'active'
            then states_with_status.principal_amount - states_with_status.cumulative_principal_paid else 0 end
            as outstanding_principal,
        case when states_with_status.status = 'active'
            then greatest(states_with_status.cumulative_principal_due - states_with_status.cumulative_principal_paid, 0)
            else 0 end as overdue_principal,
        case when states_with_status.status = 'active'
            then greatest(states_with_status.cumulative_interest_due - states_with_status.cumulative_interest_paid, 0)
            else 0 end as overdue_interest,
        states_with_status.cumulative_principal_due,
        states_with_status.cumulative_interest_due,
        states_with_status.cumulative_principal_paid,
        states_with_status.cumulative_interest_paid,
        states_with_status.cumulative_penalty_paid,
        states_with_status.written_off_amount,
        states_with_status.cumulative_recovered,
        oldest_unpaid.oldest_unpaid_due_date,
        states_with_status.origination_date,
        case
            when states_with_status.status <> 'active'
                then coalesce(states_with_status.last_status_event_on, states_with_status.opening_closed_on)
        end as closed_on
    from states_with_status
    left join oldest_unpaid
        on states_with_status.loan_id = oldest_unpaid.loan_id
        and states_with_status.event_date = oldest_unpaid.event_date

),

aged as (

    select
        state_balances.*,
        as_of_dates.as_of_date,
        case
            when state_balances.status <> 'active' then null
            when state_balances.oldest_unpaid_due_date < as_of_dates.as_of_date
                then {{ dbt.datediff('state_balances.oldest_unpaid_due_date', 'as_of_dates.as_of_date', 'day') }}
            else 0
        end as days_past_due
    from state_balances
    inner join as_of_dates
        on as_of_dates.as_of_date >= state_balances.event_date
        and as_of_dates.as_of_date < coalesce(state_balances.next_event_date, {{ window_end }})
    -- A closed loan stays in the snapshot until the end of the month it closed in, so that
    -- month-end tables see it leave.
    where state_balances.status = 'active'
       or {{ dbt.date_trunc('month', 'as_of_dates.as_of_date') }}
        <= {{ dbt.date_trunc('month', 'state_balances.closed_on') }}

),

final as (

    select
        -- ids
        aged.loan_id,
        aged.borrower_id,
        cast(aged.as_of_date as date) as as_of_date,

        -- attributes
        aged.asset_class,
        aged.status,
        {{ bucket_of('aged.days_past_due') }} as bucket,
        cast(aged.days_past_due as integer) as days_past_due,

        -- amounts
        {{ money('aged.principal_amount') }} as principal_amount,
        {{ money('aged.outstanding_principal') }} as outstanding_principal,
        {{ money('aged.overdue_principal') }} as overdue_principal,
        {{ money('aged.overdue_interest') }} as overdue_interest,
        aged.cumulative_principal_due,
        aged.cumulative_interest_due,
        aged.cumulative_principal_paid,
        aged.cumulative_interest_paid,
        aged.cumulative_penalty_paid,
        aged.written_off_amount,
        aged.cumulative_recovered,

        -- dates
        cast(aged.oldest_unpaid_due_date as date) as oldest_unpaid_due_date,
        aged.origination_date,
        cast(aged.closed_on as date) as closed_on

    from aged

)

-- Not sorted by day: a daily run's rows are one day, and a backfill writes faster and in less
-- memory without the sort (docs/decisions.md).
select * from final
