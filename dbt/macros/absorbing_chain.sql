{#
  Fundamental matrix N = (I - Q)^-1 = sum_k Q^k of an absorbing Markov chain, in plain SQL:
  repeated doubling, S(d+1) = S(d) + Q^(2^d) S(d) and Q^(2^(d+1)) = (Q^(2^d))^2, so after
  `doublings` steps S sums Q^0 .. Q^(2^doublings - 1). Joins and sums only, so any engine runs it.

  transient: a CTE with columns <groups>, from_state, to_state, probability (transient to
  transient). Emits CTEs chain_sum_<d> and chain_power_<d>; the caller reads chain_fundamental
  (<groups>, from_state, to_state, expected_visits).
#}
{% macro absorbing_chain_ctes(transient, groups, doublings=20) %}
    {%- set on_groups -%}
        {%- for g in groups %} a.{{ g }} = b.{{ g }} and{% endfor -%}
    {%- endset -%}
    {%- set group_cols = groups | join(', ') -%}
    chain_states as (
        select distinct {{ group_cols }}, from_state as state from {{ transient }}
        union
        select distinct {{ group_cols }}, to_state as state from {{ transient }}
    ),

    chain_sum_0 as (
        select {{ group_cols }}, state as from_state, state as to_state, cast(1 as double) as value
        from chain_states
    ),

    chain_power_0 as (
        select {{ group_cols }}, from_state, to_state, cast(probability as double) as value
        from {{ transient }}
    ),
    {% for d in range(doublings) %}
    chain_sum_{{ d + 1 }} as (
        select {{ group_cols }}, from_state, to_state, sum(value) as value
        from (
            select {{ group_cols }}, from_state, to_state, value from chain_sum_{{ d }}
            union all
            select {% for g in groups %}a.{{ g }}, {% endfor %}a.from_state, b.to_state, a.value * b.value
            from chain_power_{{ d }} as a
            inner join chain_sum_{{ d }} as b on {{ on_groups }} a.to_state = b.from_state
        ) as terms
        group by {{ group_cols }}, from_state, to_state
    ),

    chain_power_{{ d + 1 }} as (
        select {% for g in groups %}a.{{ g }}, {% endfor %}a.from_state, b.to_state, sum(a.value * b.value) as value
        from chain_power_{{ d }} as a
        inner join chain_power_{{ d }} as b on {{ on_groups }} a.to_state = b.from_state
        group by {% for g in groups %}a.{{ g }}, {% endfor %}a.from_state, b.to_state
    ),
    {% endfor %}
    chain_fundamental as (
        select {{ group_cols }}, from_state, to_state, value as expected_visits
        from chain_sum_{{ doublings }}
    )
{% endmacro %}
