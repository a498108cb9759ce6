{#
  A CASE mapping a days-past-due expression to the label of the seed row whose
  [min_days_past_due, max_days_past_due] holds it (max empty: open-ended). Built from the seed
  when the model compiles, so that the edges stay configuration and each row costs no join.
#}
{% macro classify_days_past_due(seed_name, label_column, days_past_due, filter=none) %}
    {%- if not execute -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {%- set rows = run_query(
            "select " ~ label_column ~ ", min_days_past_due, max_days_past_due from " ~ ref(seed_name)
            ~ (" where " ~ filter if filter else "") ~ " order by min_days_past_due") -%}
        case
        {%- for label, low, high in rows.rows %}
            when {{ days_past_due }} >= {{ low }}{% if high is not none %} and {{ days_past_due }} <= {{ high }}{% endif %} then '{{ label }}'
        {%- endfor %}
        end
    {%- endif -%}
{% endmacro %}

{% macro bucket_of(days_past_due) %}
    {{- classify_days_past_due('delinquency_buckets', 'bucket', days_past_due) -}}
{% endmacro %}
