-- Month-end status tapes (history older than the daily ledgers), one row per account and month end.
with

source as (

    select * from {{ source('core_lending', 'month_end_tape') }}

),

renamed as (

    select
        -- ids
        portfolio,
        loan_id,

        -- attributes
        asset_class,
        status,
        months_past_due,
        days_past_due,

        -- amounts
        balance,

        -- dates
        month_end

    from source

)

select * from renamed
