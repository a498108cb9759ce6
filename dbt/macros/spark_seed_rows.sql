{#
  dbt-spark's session cursor pastes a seed's values into the SQL unescaped: an apostrophe in a
  description breaks the statement and an empty cell becomes the string 'None'. The seeds' rows
  as escaped literals instead (empty cells NULL); the other Spark connection methods too.
#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set column_types = model['config'].get('column_types', {}) %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set type = column_types.get(agate_table.column_names[loop.index0],
                                                    adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_literal(value) }} as {{ type }}){% if not loop.last %},{% endif %}
                {%- endfor -%}){% if not loop.last %},{% endif %}
            {%- endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.first %}{% do statements.append(sql) %}{% endif %}
    {% endfor %}
    {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_literal(value) %}
    {%- if value is none -%} null
    {%- elif value is sameas true or value is sameas false -%} {{ value | string | lower }}
    {%- elif value is number -%} {{ value }}
    {%- else -%} '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{% endmacro %}
