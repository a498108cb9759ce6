-- Every account's state at every month end, from the book's own aging and from month-end tapes.
-- state_order: the bucket order from the seed, 100 paid off, 101 written off.
with

book_month_ends as (

    select * from {{ ref('fct_loan_aging_monthly') }}

),

tapes as (

    select * from {{ ref('stg_core_lending__month_end_tapes') }}

),

buckets as (

    select * from {{ ref('delinquency_buckets') }}

),

book_states as (

    select
        'book' as portfolio,
        loan_id,
        asset_class,
        month_end,
        coalesce(bucket, status) as state,
        days_past_due,
        outstanding_principal,
        overdue_principal + overdue_interest as overdue_amount,
        written_off_amount,
        principal_amount,
        origination_date
    from book_month_ends

),

tape_states as (

    select
        tapes.portfolio,
        tapes.loan_id,
        tapes.asset_class,
        tapes.month_end,
        case
            when tapes.status in ('paid_off', 'written_off') then tapes.status
            when tapes.days_past_due is not null then {{ bucket_of('tapes.days_past_due') }}
            else month_buckets.bucket
        end as state,
        tapes.days_past_due,
        tapes.balance as outstanding_principal,
        cast(null as decimal(18, 2)) as overdue_amount,
        cast(0 as decimal(18, 2)) as written_off_amount,
        cast(null as decimal(18, 2)) as principal_amount,
        cast(null as date) as origination_date
    from tapes
    left join buckets as month_buckets
        on month_buckets.bucket_order = least(tapes.months_past_due, (select max(bucket_order) from buckets))

),

all_states as (

    select * from book_states
    union all
    select * from tape_states

),

final as (

    select
        all_states.*,
        case all_states.state
            when 'paid_off' then 100
            when 'written_off' then 101
            else buckets.bucket_order
        end as state_order
    from all_states
    left join buckets on all_states.state = buckets.bucket

)

select * from final
