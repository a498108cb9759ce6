-- Portfolio at risk per as-of date and asset class (and 'all'): PAR30 / PAR90 = outstanding
-- principal of loans more than 30 / 90 days past due over all outstanding principal.

with

aging as (

    select * from {{ ref('int_active_loan_days_in_window') }}

),

sums as (

    select as_of_date, asset_class, sum(outstanding_principal) as outstanding_principal,
           sum(case when days_past_due > 30 then outstanding_principal else 0 end) as outstanding_over_30,
           sum(case when days_past_due > 90 then outstanding_principal else 0 end) as outstanding_over_90
    from aging
    group by as_of_date, asset_class

    union all

    select as_of_date, 'all' as asset_class, sum(outstanding_principal),
           sum(case when days_past_due > 30 then outstanding_principal else 0 end),
           sum(case when days_past_due > 90 then outstanding_principal else 0 end)
    from aging
    group by as_of_date

),

final as (

    select
        as_of_date,
        asset_class,
        {{ money('outstanding_principal') }} as outstanding_principal,
        {{ money('outstanding_over_30') }} as outstanding_over_30,
        {{ money('outstanding_over_90') }} as outstanding_over_90,
        cast(outstanding_over_30 as double) / nullif(outstanding_principal, 0) as par30,
        cast(outstanding_over_90 as double) / nullif(outstanding_principal, 0) as par90
    from sums

)

select * from final
