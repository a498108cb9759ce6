-- Vintage curves (账龄分析): per origination month and months on book, the share of the vintage's
-- loans (and of its disbursed principal) that have ever been more than 30 / 90 days past due.
with

states as (

    select * from {{ ref('int_loan_month_end_states') }} where portfolio = 'book'

),

vintages as (

    select
        loan_id,
        month_end,
        cast({{ dbt.date_trunc('month', 'origination_date') }} as date) as origination_month,
        {{ calendar_months_between('origination_date', 'month_end') }} as months_on_book,
        principal_amount,
        max(case when days_past_due > 30 or state = 'written_off' then 1 else 0 end) over (
            partition by loan_id order by month_end rows between unbounded preceding and current row) as ever_30,
        max(case when days_past_due > 90 or state = 'written_off' then 1 else 0 end) over (
            partition by loan_id order by month_end rows between unbounded preceding and current row) as ever_90
    from states

),

vintage_sizes as (

    select origination_month, count(*) as loans, sum(principal_amount) as principal
    from (select distinct loan_id, origination_month, principal_amount from vintages) as loans
    group by origination_month

),

final as (

    select
        vintages.origination_month,
        vintages.months_on_book,
        vintage_sizes.loans as vintage_loans,
        {{ money('vintage_sizes.principal') }} as vintage_principal,
        cast(sum(vintages.ever_30) as bigint) as loans_ever_30,
        cast(sum(vintages.ever_90) as bigint) as loans_ever_90,
        cast(sum(vintages.ever_30) as double) / vintage_sizes.loans as ever_30_rate,
        cast(sum(vintages.ever_90) as double) / vintage_sizes.loans as ever_90_rate,
        cast(sum(vintages.ever_30 * vintages.principal_amount) as double) / vintage_sizes.principal
            as ever_30_balance_rate,
        cast(sum(vintages.ever_90 * vintages.principal_amount) as double) / vintage_sizes.principal
            as ever_90_balance_rate
    from vintages
    inner join vintage_sizes on vintages.origination_month = vintage_sizes.origination_month
    group by vintages.origination_month, vintages.months_on_book, vintage_sizes.loans, vintage_sizes.principal

)

select * from final
