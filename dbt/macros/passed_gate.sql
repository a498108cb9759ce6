{#
  A filter for the staging models: leaves out the rows of landing days that failed their gate and
  were not released (lib/gate.py), so that no failed day's rows reach the aging.
#}
{% macro passed_gate() -%}
    _landing_date not in (
        select failed.landing_date
        from {{ source('core_lending', 'landing_day_gate') }} as failed
        where failed.status = 'failed'
          and failed.landing_date not in (
              select released.landing_date
              from {{ source('core_lending', 'landing_day_gate') }} as released
              where released.gate = 'release'
          )
    )
{%- endmacro %}
