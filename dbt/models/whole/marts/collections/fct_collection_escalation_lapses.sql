-- Contacts that carried no more pressure than the contact before them (no idle threats: each
-- contact should press harder). A contact is an action that reached the borrower or was
-- delivered; failed call attempts are not contacts. Pressure is the rank of the means in the seed
-- collection_pressure_ladder. A contact more than escalation_round_gap_days after the previous one
-- starts a new round and is not compared; repeating the top rung is not a lapse.
with

actions as (

    select * from {{ ref('stg_core_lending__collection_actions') }}

),

ladder as (

    select * from {{ ref('collection_pressure_ladder') }}

),

contacts as (

    select
        actions.action_id,
        actions.loan_id,
        actions.collector_id,
        actions.action_type,
        ladder.pressure_rank,
        actions.action_date,
        lag(actions.action_id) over loan_contacts as previous_action_id,
        lag(actions.collector_id) over loan_contacts as previous_collector_id,
        lag(actions.action_type) over loan_contacts as previous_action_type,
        lag(ladder.pressure_rank) over loan_contacts as previous_pressure_rank,
        lag(actions.action_date) over loan_contacts as previous_action_date
    from actions
    inner join ladder on actions.action_type = ladder.action_type
    where actions.is_effective_contact or actions.outcome = 'delivered'
    window loan_contacts as (partition by actions.loan_id order by actions.action_date, actions.action_id)

),

final as (

    select
        -- ids
        action_id,
        loan_id,
        collector_id,
        previous_action_id,
        previous_collector_id,

        -- attributes
        case when pressure_rank < previous_pressure_rank then 'went_backwards' else 'did_not_escalate' end
            as escalation_status,
        action_type,
        previous_action_type,
        pressure_rank,
        previous_pressure_rank,

        -- dates
        action_date,
        previous_action_date

    from contacts
    where previous_action_id is not null
      and {{ dbt.datediff('previous_action_date', 'action_date', 'day') }}
        <= {{ collection_parameter('escalation_round_gap_days') }}
      and pressure_rank <= previous_pressure_rank
      and not (
          pressure_rank = (select max(pressure_rank) from ladder)
          and previous_pressure_rank = pressure_rank
      )

)

select * from final
