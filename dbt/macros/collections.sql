{#- A lender-tuned number from the seed collection_parameters, as a scalar subquery. -#}
{% macro collection_parameter(name) -%}
    (select cast(value as double) from {{ ref('collection_parameters') }} where parameter = '{{ name }}')
{%- endmacro %}

{#- numerator / denominator, null when the denominator is 0. -#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- The three collection rates from the counts of a KPI row; pending promises stay out of the kept rate. -#}
{% macro collection_kpi_rates() -%}
    {{ ratio('calls_connected', 'calls_dialled') }} as contact_rate,
    {{ ratio('promises', 'effective_contacts') }} as promise_rate,
    {{ ratio('promises_kept', 'promises - promises_pending') }} as kept_rate
{%- endmacro %}

{#- Rows where the condition holds, as a bigint (sum() of integers is a hugeint on DuckDB). -#}
{% macro count_where(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as bigint)
{%- endmacro %}
