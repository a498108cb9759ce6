{# A bound of the 95% Wilson score interval of successes / trials: side -1 the low one, +1 the high one. #}
{% macro wilson_bound(successes, trials, side) -%}
    (cast({{ successes }} as double) / {{ trials }} + 1.9208 / {{ trials }}
        {{ '+' if side > 0 else '-' }} 1.96 * sqrt(
            cast({{ successes }} as double) / {{ trials }} * (1 - cast({{ successes }} as double) / {{ trials }})
            / {{ trials }} + 0.9604 / ({{ trials }} * {{ trials }})))
    / (1 + 3.8416 / {{ trials }})
{%- endmacro %}
