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
        sum(actions) as actions,
        sum(calls_dialled) as calls_dialled,
        sum(calls_connected) as calls_connected,
        sum(effective_contacts) as effective_contacts,
        sum(promises) as promises,
        sum(promises_kept) as promises_kept,
        sum(promises_partial) as promises_partial,
        sum(promises_broken) as promises_broken,
        sum(promises_pending) as promises_pending,
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
