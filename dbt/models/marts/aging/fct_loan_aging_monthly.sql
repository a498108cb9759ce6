-- Month-end aging: the daily snapshot on the last day of each month, kept for roll rates
-- and Pi even when old daily rows are pruned.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    on_schema_change='fail',
    tags=['daily'],
) }}

-- depends_on: {{ source('core_lending', 'landed_files') }}
{% set window = aging_window() %}

with

daily as (

    select * from {{ ref('fct_loan_aging_daily') }}

),

month_ends as (

    select *
    from daily
    where as_of_date >= {{ date_literal(window.start) }}
      and as_of_date < {{ date_literal(window.end) }}
      and as_of_date = cast({{ dbt.last_day('as_of_date', 'month') }} as date)
      {% if window.is_empty %}and 1 = 0{% endif %}

)

select * from month_ends
