with

source as (

    select * from {{ source('core_lending', 'write_offs') }}
    where {{ passed_gate() }}

),

renamed as (

    select
        -- ids
        loan_id,

        -- amounts
        written_off_amount,

        -- dates
        write_off_date,
        _landing_date as landed_on

    from source

)

select * from renamed
