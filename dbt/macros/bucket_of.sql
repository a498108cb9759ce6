{#
  The delinquency bucket of a days-past-due expression, as a CASE built from the seed
  delinquency_buckets when the model compiles (a hash-free expression instead of a range
  join on every loan-day). Edit the seed, not this macro.
#}
{% macro bucket_of(days_past_due) %}
    {%- if not execute -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {%- set buckets = run_query(
            "select bucket, min_days_past_due, max_days_past_due from " ~ ref('delinquency_buckets')
            ~ " order by min_days_past_due") -%}
        case
        {%- for bucket, low, high in buckets.rows %}
            when {{ days_past_due }} >= {{ low }}{% if high is not none %} and {{ days_past_due }} <= {{ high }}{% endif %} then '{{ bucket }}'
        {%- endfor %}
        end
    {%- endif -%}
{% endmacro %}
