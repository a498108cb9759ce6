{#
  The as-of window [start, end) a run ages: window_min_date() / window_max_date() (below)
  (Dagster passes the partition window), clamped to the days that have data:
  from the first disbursement to the last landed day.
#}
{% macro aging_window() %}
    {% set window = {'start': window_min_date(), 'end': window_max_date(), 'is_empty': false} %}
    {% if execute %}
        {% set bounds = run_query(
            "select"
            ~ " greatest(cast('" ~ window_min_date() ~ "' as date), (select min(origination_date) from "
            ~ source('core_lending', 'loans') ~ ")),"
            ~ " least(cast('" ~ window_max_date() ~ "' as date), cast("
            ~ dbt.dateadd('day', 1, "(select max(landing_date) from " ~ source('core_lending', 'landed_files') ~ ")")
            ~ " as date))"
        ) %}
        {% set start, end = bounds.rows[0][0], bounds.rows[0][1] %}
        {% if start is none or end is none or start >= end %}
            {% do window.update({'is_empty': true}) %}
        {% else %}
            {% do window.update({'start': start | string, 'end': end | string}) %}
        {% endif %}
    {% endif %}
    {{ return(window) }}
{% endmacro %}

{# True when the day before the window is already in this model: the run then carries state forward from it. #}
{% macro previous_day_is_aged(window) %}
    {% if not execute or not is_incremental() or window.is_empty %}
        {{ return(false) }}
    {% endif %}
    {% set found = run_query(
        "select count(*) from " ~ this ~ " where as_of_date = "
        ~ dbt.dateadd('day', -1, "cast('" ~ window.start ~ "' as date)")
    ) %}
    {{ return(found.rows[0][0] > 0) }}
{% endmacro %}

{% macro date_literal(value) -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{#
  The window's bounds: the environment variables LENDING_MIN_DATE / LENDING_MAX_DATE when set
  (Dagster sets them), else the vars. They are read only when dbt executes: dbt re-parses every
  file that read an environment variable at parse time whenever its value changes (and the whole
  project when --vars change), seconds on every daily run.
#}
{% macro window_min_date() %}{{ return(env_var('LENDING_MIN_DATE', var('min_date')) if execute else var('min_date')) }}{% endmacro %}
{% macro window_max_date() %}{{ return(env_var('LENDING_MAX_DATE', var('max_date')) if execute else var('max_date')) }}{% endmacro %}

{#
  Data tests on the daily tables check the run's window only: their where config names the
  window's bounds as __window_start__ and __window_end__, filled in here when the test runs
  (a where config is rendered at parse time and cannot call a project macro; dbt's documented
  way around that is this override of get_where_subquery).
#}
{% macro get_where_subquery(relation) -%}
    {% set where = config.get('where', '') %}
    {% if not where %}
        {{ return(relation) }}
    {% endif %}
    {% set where = where | replace('__window_start__', date_literal(window_min_date()))
                         | replace('__window_end__', date_literal(window_max_date())) %}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
{%- endmacro %}
