{#
  The raw layer as Parquet files: every source table of core_lending read from <folder>/<table>/
  (the loader's folders, a folder per landing day: dagster_project/lib/raw_layer.py), as a table
  over the files on Spark and a view over them on DuckDB. On Spark it runs at the start of every
  dbt invocation (on-run-start), with the folder the pipeline writes; by hand:
  `dbt run-operation register_raw_parquet --args '{folder: ...}'`.
#}
{% macro register_raw_parquet(folder) %}
    {% if not execute %}{% do return('') %}{% endif %}  {# the graph is empty while dbt parses #}
    {% do run_query('create schema if not exists raw') %}
    {% for source in graph.sources.values() if source.source_name == 'core_lending' %}
        {% do run_query(raw_parquet_relation('raw.' ~ source.name, folder ~ '/' ~ source.name)) %}
    {% endfor %}
{% endmacro %}

{% macro raw_parquet_relation(relation, path) %}
    {{ return(adapter.dispatch('raw_parquet_relation')(relation, path)) }}
{% endmacro %}

{% macro duckdb__raw_parquet_relation(relation, path) %}
    create or replace view {{ relation }} as select * from read_parquet('{{ path }}/**/*.parquet')
{% endmacro %}

{#
  The files' own columns, landing day included: no partition columns inferred from the folder names.
  Created again on every invocation, so that its columns are the files' current ones (a column
  added to the ledger contract reaches Spark); dropping a table with a location keeps its files.
#}
{% macro spark__raw_parquet_relation(relation, path) %}
    {% do run_query('drop table if exists ' ~ relation) %}
    create table {{ relation }} using parquet options (recursiveFileLookup 'true') location '{{ path }}'
{% endmacro %}
