-- Collection KPIs per calendar month x collector x team x bucket x action type: the daily
-- counts summed, the rates recomputed from the sums (never averaged).
with

daily as (

    select * from {{ ref('fct_collection_kpis_daily') }}

),

counted as (

    select
        collector_id,
        team_id,
        bucket,
        action_type,
        cast(sum(actions) as bigint) as actions,
        cast(sum(calls_dialled) as bigint) as calls_dialled,
        cast(sum(calls_connected) as bigint) as calls_connected,
        cast(sum(effective_contacts) as bigint) as effective_contacts,
        cast(sum(promises) as bigint) as promises,
        cast(sum(promises_kept) as bigint) as promises_kept,
        cast(sum(promises_partial) as bigint) as promises_partial,
        cast(sum(promises_broken) as bigint) as promises_broken,
        cast(sum(promises_pending) as bigint) as promises_pending,
        cast(sum(promised_amount) as decimal(18, 2)) as promised_amount,
        cast(sum(collected_amount) as decimal(18, 2)) as collected_amount,
        cast({{ dbt.date_trunc('month', 'action_date') }} as date) as action_month
    from daily
    group by collector_id, team_id, bucket, action_type, cast({{ dbt.date_trunc('month', 'action_date') }} as date)

),

final as (

    select
        *,
        {{ collection_kpi_rates() }}
    from counted

)

select * from final
