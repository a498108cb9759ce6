{#
  Post-hook of every seed: the checksum of the file just loaded, in config.seed_versions, so that a
  run can tell whether the warehouse's configuration is the one on disk (the latest row per seed wins).
#}
{% macro record_seed_version() %}
    insert into {{ this.schema }}.seed_versions
    values ('{{ this.identifier }}', '{{ model.checksum.checksum }}', {{ dbt.current_timestamp() }})
{% endmacro %}

{# on-run-start: once per invocation, before the seeds load in parallel #}
{% macro create_seed_versions() %}
    {% set schema = generate_schema_name('config', none) %}
    create table if not exists {{ schema }}.seed_versions
    (seed {{ dbt.type_string() }}, checksum {{ dbt.type_string() }}, loaded_at {{ dbt.type_timestamp() }})
{% endmacro %}
