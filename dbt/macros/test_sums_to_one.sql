{# Each group's values add up to 1 (a row of a transition matrix), within a rounding tolerance. #}
{% test sums_to_one(model, column_name, group_by, tolerance=0.000001) %}
select {{ group_by | join(', ') }}, sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - 1) > {{ tolerance }}
{% endtest %}
