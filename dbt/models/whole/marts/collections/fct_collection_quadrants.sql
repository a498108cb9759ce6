-- Willingness x ability quadrant (还款意愿 x 还款能力) of every delinquent loan at each month end
-- and on the last aged day, with the treatment and pressure level of the seed
-- collection_treatments for its quadrant and bucket. Proxies over the lookback_days up to the day:
--   willing: share of resolved promises honoured (kept or partial) >= min_honoured_rate; without
--            resolved promises, calls
--            that reached the borrower / calls dialled >= min_reach_rate; without calls, any
--            payment in the lookback;
--   able:    declared monthly income / monthly installment >= min_income_cover; without income,
--            share of principal and interest due to date that was paid >= min_paid_share.
{% set lookback_start = dbt.dateadd('day', '-' ~ collection_parameter('lookback_days'), 'snapshots.as_of_date') %}

with

aging as (

    select * from {{ ref('fct_loan_aging_daily') }}

),

month_ends as (

    select * from {{ ref('fct_loan_aging_monthly') }}

),

loans as (

    select * from {{ ref('dim_loans') }}

),

schedules as (

    select * from {{ ref('int_repayment_schedules_accumulated') }}

),

actions as (

    select * from {{ ref('stg_core_lending__collection_actions') }}

),

promises as (

    select * from {{ ref('int_collection_promises_resolved') }}

),

repayments as (

    select * from {{ ref('stg_core_lending__repayments') }}

),

treatments as (

    select * from {{ ref('collection_treatments') }}

),

levels as (

    select * from {{ ref('collection_pressure_levels') }}

),

last_day as (

    select * from aging
    where as_of_date = (select max(as_of_date) from aging)

),

snapshots as (

    select loan_id, month_end as as_of_date, bucket, days_past_due, outstanding_principal,
        cumulative_principal_due + cumulative_interest_due as cumulative_due,
        cumulative_principal_paid + cumulative_interest_paid as cumulative_paid
    from month_ends
    where bucket <> 'M0'

    union

    select loan_id, as_of_date, bucket, days_past_due, outstanding_principal,
        cumulative_principal_due + cumulative_interest_due as cumulative_due,
        cumulative_principal_paid + cumulative_interest_paid as cumulative_paid
    from last_day
    where bucket <> 'M0'

),

installments as (

    select loan_id, amount_due as installment_amount
    from schedules
    where installment_number = 1

),

contacts as (

    select
        snapshots.loan_id,
        snapshots.as_of_date,
        {{ count_where("actions.action_type = 'call'") }} as calls_dialled,
        {{ count_where("actions.action_type = 'call' and actions.is_effective_contact") }} as calls_reached
    from snapshots
    inner join actions
        on snapshots.loan_id = actions.loan_id
        and actions.action_date <= snapshots.as_of_date
        and actions.action_date > {{ lookback_start }}
    group by snapshots.loan_id, snapshots.as_of_date

),

promise_record as (

    select
        snapshots.loan_id,
        snapshots.as_of_date,
        count(*) as promises_resolved,
        {{ count_where("promises.promise_status in ('kept', 'partial')") }} as promises_honoured
    from snapshots
    inner join promises
        on snapshots.loan_id = promises.loan_id
        and promises.window_closed_on <= snapshots.as_of_date
        and promises.action_date > {{ lookback_start }}
    where promises.promise_status <> 'pending'
    group by snapshots.loan_id, snapshots.as_of_date

),

payments_made as (

    select
        snapshots.loan_id,
        snapshots.as_of_date,
        count(*) as payments
    from snapshots
    inner join repayments
        on snapshots.loan_id = repayments.loan_id
        and repayments.value_date <= snapshots.as_of_date
        and repayments.value_date > {{ lookback_start }}
    where not repayments.is_reversal
    group by snapshots.loan_id, snapshots.as_of_date

),

proxies as (

    select
        snapshots.*,
        coalesce(contacts.calls_dialled, 0) as calls_dialled,
        coalesce(contacts.calls_reached, 0) as calls_reached,
        coalesce(promise_record.promises_resolved, 0) as promises_resolved,
        coalesce(promise_record.promises_honoured, 0) as promises_honoured,
        coalesce(payments_made.payments, 0) as payments,
        loans.monthly_income,
        installments.installment_amount,
        {{ ratio('promise_record.promises_honoured', 'promise_record.promises_resolved') }} as honoured_rate,
        {{ ratio('contacts.calls_reached', 'contacts.calls_dialled') }} as reach_rate,
        {{ ratio('loans.monthly_income', 'installments.installment_amount') }} as income_cover,
        {{ ratio('snapshots.cumulative_paid', 'snapshots.cumulative_due') }} as paid_share
    from snapshots
    inner join loans on snapshots.loan_id = loans.loan_id
    left join installments on snapshots.loan_id = installments.loan_id
    left join contacts on snapshots.loan_id = contacts.loan_id and snapshots.as_of_date = contacts.as_of_date
    left join promise_record
        on snapshots.loan_id = promise_record.loan_id and snapshots.as_of_date = promise_record.as_of_date
    left join payments_made
        on snapshots.loan_id = payments_made.loan_id and snapshots.as_of_date = payments_made.as_of_date

),

classified as (

    select
        *,
        case
            when honoured_rate is not null then honoured_rate >= {{ collection_parameter('min_honoured_rate') }}
            when reach_rate is not null then reach_rate >= {{ collection_parameter('min_reach_rate') }}
            else payments > 0
        end as is_willing,
        case
            when income_cover is not null then income_cover >= {{ collection_parameter('min_income_cover') }}
            else coalesce(paid_share >= {{ collection_parameter('min_paid_share') }}, false)
        end as is_able
    from proxies

),

quadrants as (

    select
        *,
        case
            when is_willing and is_able then 'I'
            when is_willing then 'II'
            when is_able then 'III'
            else 'IV'
        end as quadrant
    from classified

),

final as (

    select
        -- ids
        classified.loan_id,

        -- attributes
        classified.bucket,
        classified.days_past_due,
        classified.quadrant,
        classified.is_willing,
        classified.is_able,
        classified.calls_dialled,
        classified.calls_reached,
        classified.reach_rate,
        classified.promises_resolved,
        classified.promises_honoured,
        classified.honoured_rate,
        classified.payments,
        classified.income_cover,
        classified.paid_share,
        treatments.treatment,
        treatments.treatment_zh,
        treatments.pressure_level,
        levels.pressure_name,

        -- amounts
        classified.outstanding_principal,
        classified.monthly_income,
        classified.installment_amount,

        -- dates
        classified.as_of_date

    from quadrants as classified
    left join treatments
        on classified.bucket = treatments.bucket
        and classified.quadrant = treatments.quadrant
    left join levels on treatments.pressure_level = levels.pressure_level

)

select * from final
