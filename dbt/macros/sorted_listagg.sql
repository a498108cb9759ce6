{#
  The values of a group joined in sorted order. dbt.listagg's order by is ignored on Spark
  (collect_list keeps no order), so Spark sorts the collected array instead.
#}
{% macro sorted_listagg(measure, delimiter_text) %}
    {{ return(adapter.dispatch('sorted_listagg')(measure, delimiter_text)) }}
{% endmacro %}

{% macro default__sorted_listagg(measure, delimiter_text) %}
    {{- dbt.listagg(measure, delimiter_text, 'order by ' ~ measure) -}}
{% endmacro %}

{% macro spark__sorted_listagg(measure, delimiter_text) %}
    array_join(array_sort(collect_list({{ measure }})), {{ delimiter_text }})
{%- endmacro %}
