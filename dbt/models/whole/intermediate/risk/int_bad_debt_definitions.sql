-- The definition of bad per portfolio: the seed bad_debt_definitions where it has a row, else a
-- default, so that a new tape gets Pi without a seed edit: written off within 12 months when the
-- portfolio has write-offs, else its worst bucket within 12 months.
with

seed as (

    select * from {{ ref('bad_debt_definitions') }}

),

states as (

    select * from {{ ref('int_loan_month_end_states') }}

),

buckets as (

    select * from {{ ref('delinquency_buckets') }}

),

portfolios as (

    select
        portfolio,
        max(case when state = 'written_off' then 1 else 0 end) as has_write_offs,
        max(case when state_order < 100 then state_order end) as worst_bucket_order
    from states
    group by portfolio

),

defaults as (

    select
        portfolios.portfolio,
        case when portfolios.has_write_offs = 1 then 'written_off' else buckets.bucket end as bad_state,
        case when portfolios.has_write_offs = 1 then 101 else portfolios.worst_bucket_order end as bad_state_order,
        12 as cohort_horizon_months,
        case when portfolios.has_write_offs = 1 then 'default: written off (核销)'
            else 'default: ' || buckets.bucket || ', the worst bucket in the data (no write-offs)' end as definition
    from portfolios
    left join buckets on portfolios.worst_bucket_order = buckets.bucket_order
    where portfolios.portfolio not in (select portfolio from seed)

),

final as (

    select portfolio, bad_state, bad_state_order, cohort_horizon_months, definition, 'seed' as definition_source
    from seed
    union all
    select portfolio, bad_state, bad_state_order, cohort_horizon_months, definition, 'default'
    from defaults

)

select * from final
