-- Collection KPIs (催收考核指标) per action day x collector x team x bucket x action type.
-- The bucket is the loan's bucket on the action day. A promise counts on the day and for the
-- collector of the action that obtained it, whenever its window closes.
with

actions as (

    select * from {{ ref('stg_core_lending__collection_actions') }}

),

promises as (

    select * from {{ ref('int_collection_promises_resolved') }}

),

aging as (

    select * from {{ ref('fct_loan_aging_daily') }}

),

counted as (

    select
        -- ids
        actions.collector_id,
        actions.team_id,

        -- attributes
        coalesce(aging.bucket, aging.status, 'unknown') as bucket,
        actions.action_type,

        -- counts
        count(*) as actions,
        {{ count_where("actions.action_type = 'call'") }} as calls_dialled,
        {{ count_where("actions.action_type = 'call' and actions.is_connected") }} as calls_connected,
        {{ count_where("actions.is_effective_contact") }} as effective_contacts,
        count(promises.action_id) as promises,
        {{ count_where("promises.promise_status = 'kept'") }} as promises_kept,
        {{ count_where("promises.promise_status = 'partial'") }} as promises_partial,
        {{ count_where("promises.promise_status = 'broken'") }} as promises_broken,
        {{ count_where("promises.promise_status = 'pending'") }} as promises_pending,

        -- amounts
        cast(coalesce(sum(promises.promise_amount), 0) as decimal(18, 2)) as promised_amount,
        cast(coalesce(sum(promises.collected_amount), 0) as decimal(18, 2)) as collected_amount,

        -- dates
        actions.action_date

    from actions
    left join aging
        on actions.loan_id = aging.loan_id
        and actions.action_date = aging.as_of_date
    left join promises on actions.action_id = promises.action_id
    group by actions.collector_id, actions.team_id, 3, actions.action_type, actions.action_date

),

final as (

    select
        *,
        {{ collection_kpi_rates() }}
    from counted

)

select * from final
