-- Overdue matrix (逾期矩阵): as-of date x asset class x bucket, with the number of accounts,
-- overdue and outstanding amounts and their shares of the asset class, and the report group of
-- the seed (M1, M2, M3, M3+) for the roll-up. Built day by day like the aging snapshot.

with

aging as (

    select * from {{ ref('int_active_loan_days_in_window') }}

),

buckets as (

    select * from {{ ref('delinquency_buckets') }}

),

cells as (

    select
        as_of_date,
        asset_class,
        bucket,
        count(*) as accounts,
        sum(overdue_principal + overdue_interest) as overdue_amount,
        sum(outstanding_principal) as outstanding_principal
    from aging
    group by as_of_date, asset_class, bucket

),

final as (

    select
        cells.as_of_date,
        cells.asset_class,
        cells.bucket,
        buckets.bucket_order,
        buckets.report_group,
        cells.accounts,
        {{ money('cells.overdue_amount') }} as overdue_amount,
        {{ money('cells.outstanding_principal') }} as outstanding_principal,
        cast(cells.accounts as double)
            / sum(cells.accounts) over (partition by cells.as_of_date, cells.asset_class) as account_share,
        cast(cells.outstanding_principal as double) / nullif(
            sum(cells.outstanding_principal) over (partition by cells.as_of_date, cells.asset_class), 0)
            as outstanding_share
    from cells
    inner join buckets on cells.bucket = buckets.bucket

)

select * from final
