{# Every row satisfies the boolean expression; the failing rows are returned. #}
{% test expression_holds(model, expression, column_name=none) %}
select *
from {{ model }}
where coalesce(({{ expression }}), false) = false
{% endtest %}
