{#
  The Markov chain's values at every horizon h = 0 .. max_horizon, a select of
  (portfolio, asset_class, from_state, horizon_months, pi, paid_off_probability, months_open)
  from the CTEs named by the arguments: transient_moves (Q: from_state -> to_state, probability;
  every state with a row onto itself), absorbing_moves (R: to_bad, to_paid_off per from_state)
  and horizon_limit (max_horizon). V(h + 1) = R + Q V(h) from V(0) = 0, and the expected months
  open E(h + 1) = 1 + Q E(h).
#}
{% macro markov_chain_steps(transient_moves, absorbing_moves, horizon_limit) %}
    {{ return(adapter.dispatch('markov_chain_steps')(transient_moves, absorbing_moves, horizon_limit)) }}
{% endmacro %}

{# The recursion as a recursive CTE (the model's `with recursive` allows it): one step per level. #}
{% macro default__markov_chain_steps(transient_moves, absorbing_moves, horizon_limit) %}

    select portfolio, asset_class, from_state, 0, cast(0 as double), cast(0 as double), cast(0 as double)
    from {{ absorbing_moves }}

    union all

    select
        transient_moves.portfolio,
        transient_moves.asset_class,
        transient_moves.from_state,
        previous.horizon_months + 1,
        max(absorbing_moves.to_bad) + sum(transient_moves.probability * previous.pi),
        max(absorbing_moves.to_paid_off) + sum(transient_moves.probability * previous.paid_off_probability),
        1 + sum(transient_moves.probability * previous.months_open)
    from chain_steps as previous
    inner join {{ transient_moves }} as transient_moves
        on previous.portfolio = transient_moves.portfolio
        and previous.asset_class = transient_moves.asset_class
        and previous.from_state = transient_moves.to_state
    inner join {{ absorbing_moves }} as absorbing_moves
        on transient_moves.portfolio = absorbing_moves.portfolio
        and transient_moves.asset_class = absorbing_moves.asset_class
        and transient_moves.from_state = absorbing_moves.from_state
    where previous.horizon_months < (select max_horizon from {{ horizon_limit }})
    group by transient_moves.portfolio, transient_moves.asset_class, transient_moves.from_state,
        previous.horizon_months

{% endmacro %}

{#
  Spark refuses a recursive CTE that aggregates its own rows (INVALID_RECURSIVE_REFERENCE). The
  chain is small (a state per bucket), so each (portfolio, asset class) becomes one row holding
  its states in order, each with R and its row of a dense Q, and the recursion runs in Spark's
  array functions: aggregate() over the horizons appends V(h + 1) to the list of V(0 .. h).
#}
{% macro spark__markov_chain_steps(transient_moves, absorbing_moves, horizon_limit) %}
    {%- set next_values = 'transform(chain.states, s -> {init} + aggregate(sequence(0, size(chain.states) - 1), '
                          'cast(0 as double), (total, j) -> total + s.q[j] * steps[size(steps) - 1].{field}[j]))' -%}

    select
        chain.portfolio,
        chain.asset_class,
        state_row.from_state,
        horizon_months,
        step.pi[state_index],
        step.paid_off_probability[state_index],
        step.months_open[state_index]
    from (

        select
            chain.portfolio,
            chain.asset_class,
            chain.states,
            aggregate(
                sequence(1, chain.max_horizon),
                array(named_struct(
                    'pi', array_repeat(cast(0 as double), size(chain.states)),
                    'paid_off_probability', array_repeat(cast(0 as double), size(chain.states)),
                    'months_open', array_repeat(cast(0 as double), size(chain.states))
                )),
                (steps, horizon) -> concat(steps, array(named_struct(
                    'pi', {{ next_values.format(init='s.to_bad', field='pi') }},
                    'paid_off_probability', {{ next_values.format(init='s.to_paid_off', field='paid_off_probability') }},
                    'months_open', {{ next_values.format(init='cast(1 as double)', field='months_open') }}
                )))
            ) as steps
        from (

            select
                matrix_rows.portfolio,
                matrix_rows.asset_class,
                horizon_limit.max_horizon,
                array_sort(collect_list(struct(
                    matrix_rows.state_number, matrix_rows.from_state, matrix_rows.to_bad, matrix_rows.to_paid_off,
                    matrix_rows.q
                ))) as states
            from (

                with numbered_states as (

                    select
                        *,
                        row_number() over (partition by portfolio, asset_class order by from_state) as state_number
                    from {{ absorbing_moves }}

                )

                select
                    from_states.portfolio,
                    from_states.asset_class,
                    from_states.state_number,
                    from_states.from_state,
                    from_states.to_bad,
                    from_states.to_paid_off,
                    transform(
                        array_sort(collect_list(struct(to_states.state_number, coalesce(moves.probability, 0) as p))),
                        cell -> cast(cell.p as double)
                    ) as q
                from numbered_states as from_states
                inner join numbered_states as to_states
                    on from_states.portfolio = to_states.portfolio
                    and from_states.asset_class = to_states.asset_class
                left join (

                    select portfolio, asset_class, from_state, to_state, sum(probability) as probability
                    from {{ transient_moves }}
                    group by portfolio, asset_class, from_state, to_state

                ) as moves
                    on from_states.portfolio = moves.portfolio
                    and from_states.asset_class = moves.asset_class
                    and from_states.from_state = moves.from_state
                    and to_states.from_state = moves.to_state
                group by from_states.portfolio, from_states.asset_class, from_states.state_number,
                    from_states.from_state, from_states.to_bad, from_states.to_paid_off

            ) as matrix_rows
            cross join {{ horizon_limit }} as horizon_limit
            group by matrix_rows.portfolio, matrix_rows.asset_class, horizon_limit.max_horizon

        ) as chain

    ) as chain
    lateral view posexplode(chain.steps) as horizon_months, step
    lateral view posexplode(chain.states) as state_index, state_row

{% endmacro %}
