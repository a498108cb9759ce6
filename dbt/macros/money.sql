{# Amounts in the book's currency: two decimals everywhere, whatever the arithmetic widened them to. #}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}
