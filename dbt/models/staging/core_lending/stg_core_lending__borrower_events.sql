with

source as (

    select * from {{ source('core_lending', 'borrower_events') }}
    where {{ passed_gate() }}

),

renamed as (

    select
        -- ids
        event_id,
        loan_id,
        borrower_id,

        -- attributes
        event_type,
        detail,

        -- dates
        event_date,
        _landing_date as landed_on

    from source

)

select * from renamed
