with

source as (

    select * from {{ source('core_lending', 'collection_actions') }}
    where {{ passed_gate() }}

),

renamed as (

    select
        -- ids
        action_id,
        loan_id,
        collector_id,
        team_id,

        -- attributes
        action_type,
        outcome,
        outcome = 'connected' as is_connected,
        reached_borrower as is_effective_contact,
        promise_amount is not null as has_promise,

        -- amounts
        promise_amount,

        -- dates
        action_date,
        promise_date,
        _landing_date as landed_on

    from source

)

select * from renamed
