-- Regulatory grades per loan and day, a view over the aging snapshot: the IFRS 9 stage (30 and
-- 90 days past due backstops) and the floor of the five-category classification (五级分类), both
-- from the seed regulatory_grades. A written-off loan is stage 3 and loss. On Spark a table: the
-- warehouse file reads Spark's tables from their Parquet files, and a Spark view has none.
{{ config(materialized='table' if target.type == 'spark' else 'view') }}
-- depends_on: {{ ref('regulatory_grades') }}

with

aging as (

    select * from {{ ref('fct_loan_aging_daily') }}

),

final as (

    select
        loan_id,
        as_of_date,
        asset_class,
        status,
        days_past_due,
        case when status = 'written_off' then 'stage_3'
             when status = 'active' then {{ classify_days_past_due('regulatory_grades', 'grade', 'days_past_due', "framework = 'ifrs9_stage'") }}
        end as ifrs9_stage,
        case when status = 'written_off' then 'loss'
             when status = 'active' then {{ classify_days_past_due('regulatory_grades', 'grade', 'days_past_due', "framework = 'five_category'") }}
        end as five_category_floor
    from aging

)

select * from final
