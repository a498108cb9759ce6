{#
  The month boundaries crossed from start_date to end_date (31 January to 30 April: 3), as
  DuckDB's datediff('month'), a bigint on both engines. Not dbt.datediff(..., 'month'): on Spark
  it adds one when the end's day of the month is smaller than the start's, and gives 4 there.
#}
{% macro calendar_months_between(start_date, end_date) -%}
    cast((year({{ end_date }}) - year({{ start_date }})) * 12 + month({{ end_date }}) - month({{ start_date }}) as bigint)
{%- endmacro %}
