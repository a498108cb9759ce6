{#
  Retention of the loan x day grain: with var daily_retention_days = N (> 0), a run deletes
  daily rows more than N days before its window. Month ends stay in fct_loan_aging_monthly,
  and a daily run needs only the day before its window. 0 (the default) keeps everything.
#}
{% macro prune_daily_history() %}
    {% set keep_days = var('daily_retention_days', 0) | int %}
    {% if keep_days > 0 and is_incremental() %}
        delete from {{ this }}
        where as_of_date < {{ dbt.dateadd('day', -keep_days, date_literal(window_min_date())) }}
    {% else %}
        select 1
    {% endif %}
{% endmacro %}
