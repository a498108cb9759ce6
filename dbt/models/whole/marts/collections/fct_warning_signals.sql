-- Early-warning signals (危险信号): one row per rule that fired for a loan on a day. The rules,
-- their thresholds and weights are the seed warning_rules; each rule below says when it fires.
-- A rule with an event_type fires on an event day when the loan has at least `threshold` events
-- of that type within the rule's lookback days (that day included).
with

rules as (

    select * from {{ ref('warning_rules') }}

),

loans as (

    select * from {{ ref('dim_loans') }}

),

events as (

    select * from {{ ref('stg_core_lending__borrower_events') }}

),

actions as (

    select * from {{ ref('stg_core_lending__collection_actions') }}

),

repayments as (

    select * from {{ ref('stg_core_lending__repayments') }}

),

promises as (

    select * from {{ ref('int_collection_promises_resolved') }}

),

installments as (

    select * from {{ ref('int_installments_settled') }}

),

aging as (

    select * from {{ ref('fct_loan_aging_daily') }}

),

as_of as (

    select max(as_of_date) as as_of_date from aging

),

-- WS05-WS14: ledger events, counted over the lookback
event_hits as (

    select
        rules.rule_id,
        events.loan_id,
        events.event_date as signal_date,
        cast(count(*) as double) as observed_value
    from events
    inner join rules on events.event_type = rules.event_type
    inner join events as earlier
        on events.loan_id = earlier.loan_id
        and events.event_type = earlier.event_type
        and earlier.event_date <= events.event_date
        and earlier.event_date > {{ dbt.dateadd('day', '-rules.lookback_days', 'events.event_date') }}
    group by rules.rule_id, events.loan_id, events.event_id, events.event_date, rules.threshold
    having count(*) >= rules.threshold

),

-- WS01: installment k paid (or still unpaid) threshold days later than installment k - 3 was
delays as (

    select
        loan_id,
        installment_number,
        due_date,
        settled_on,
        greatest({{ dbt.datediff('due_date', 'settled_on', 'day') }}, 0) as delay_days
    from installments

),

slower_payments as (

    select
        this_installment.loan_id,
        cast({{ dbt.dateadd(
            'day', 'earlier.delay_days + rules.threshold', 'this_installment.due_date'
        ) }} as date) as signal_date,
        this_installment.settled_on,
        cast(earlier.delay_days + rules.threshold as double) as observed_value
    from delays as this_installment
    inner join delays as earlier
        on this_installment.loan_id = earlier.loan_id
        and earlier.installment_number = this_installment.installment_number - 3
    cross join rules
    where rules.rule_id = 'WS01'
      and earlier.settled_on is not null

),

slower_payment_hits as (

    select
        'WS01' as rule_id,
        slower_payments.loan_id,
        slower_payments.signal_date,
        slower_payments.observed_value
    from slower_payments
    cross join as_of
    where slower_payments.signal_date <= as_of.as_of_date
      and (slower_payments.settled_on is null or slower_payments.settled_on >= slower_payments.signal_date)

),

-- WS02: resolved promises in a row with nothing paid; a kept or partial promise ends the run
resolved_promises as (

    select
        *,
        sum(case when promise_status = 'broken' then 0 else 1 end) over (
            partition by loan_id order by action_date, action_id rows between unbounded preceding and current row
        ) as run_id
    from promises
    where promise_status <> 'pending'

),

broken_runs as (

    select
        loan_id,
        window_closed_on,
        row_number() over (partition by loan_id, run_id order by action_date, action_id) as broken_in_a_row
    from resolved_promises
    where promise_status = 'broken'

),

broken_promise_hits as (

    select
        'WS02' as rule_id,
        broken_runs.loan_id,
        broken_runs.window_closed_on as signal_date,
        cast(broken_runs.broken_in_a_row as double) as observed_value
    from broken_runs
    inner join rules on rules.rule_id = 'WS02' and broken_runs.broken_in_a_row = rules.threshold

),

-- WS03: calls in a row that did not connect
calls as (

    select
        *,
        sum(case when is_connected then 1 else 0 end) over (
            partition by loan_id order by action_date, action_id rows between unbounded preceding and current row
        ) as run_id
    from actions
    where action_type = 'call'

),

unanswered_runs as (

    select
        loan_id,
        action_date,
        row_number() over (partition by loan_id, run_id order by action_date, action_id) as unanswered_in_a_row
    from calls
    where not is_connected

),

unreachable_hits as (

    select
        'WS03' as rule_id,
        unanswered_runs.loan_id,
        unanswered_runs.action_date as signal_date,
        cast(unanswered_runs.unanswered_in_a_row as double) as observed_value
    from unanswered_runs
    inner join rules on rules.rule_id = 'WS03' and unanswered_runs.unanswered_in_a_row = rules.threshold

),

-- WS04: a letter followed by neither a payment nor an effective contact for threshold days
letters as (

    select
        actions.action_id,
        actions.loan_id,
        actions.action_date,
        cast({{ dbt.dateadd('day', 'rules.threshold', 'actions.action_date') }} as date) as signal_date,
        rules.threshold
    from actions
    inner join rules on rules.rule_id = 'WS04'
    where actions.action_type in ('letter', 'lawyer_letter')
      and actions.outcome = 'delivered'

),

answers as (

    select loan_id, value_date as answered_on from repayments where not is_reversal
    union all
    select loan_id, action_date as answered_on from actions where is_effective_contact

),

unanswered_letter_hits as (

    select
        'WS04' as rule_id,
        letters.loan_id,
        letters.signal_date,
        cast(letters.threshold as double) as observed_value
    from letters
    cross join as_of
    left join answers
        on letters.loan_id = answers.loan_id
        and answers.answered_on > letters.action_date
        and answers.answered_on <= letters.signal_date
    where letters.signal_date <= as_of.as_of_date
    group by letters.action_id, letters.loan_id, letters.signal_date, letters.threshold
    having count(answers.loan_id) = 0

),

hits as (

    select * from event_hits
    union all
    select * from slower_payment_hits
    union all
    select * from broken_promise_hits
    union all
    select * from unreachable_hits
    union all
    select * from unanswered_letter_hits

),

hits_per_day as (

    select
        rule_id,
        loan_id,
        signal_date,
        max(observed_value) as observed_value
    from hits
    group by rule_id, loan_id, signal_date

),

final as (

    select
        -- ids
        hits.rule_id,
        hits.loan_id,
        loans.borrower_id,

        -- attributes
        rules.name_en as rule_name,
        rules.name_zh as rule_name_zh,
        rules.severity,
        rules.weight,
        hits.observed_value,
        rules.threshold,

        -- dates
        hits.signal_date

    from hits_per_day as hits
    inner join rules on hits.rule_id = rules.rule_id
    inner join loans on hits.loan_id = loans.loan_id

)

select * from final
