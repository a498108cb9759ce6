{#
  Pi (坏账概率): the probability that an account in bucket i ends as bad debt, per portfolio and
  asset class, estimated two ways side by side (definitions of bad in the seed bad_debt_definitions):

  - markov: absorbing chain from the pooled roll-rate matrix (fct_roll_rates_pooled). Transient
    states are the buckets below the bad state; absorbing are bad and paid off. N = (I - Q)^-1,
    B = N R; lifetime Pi = B[i, bad]; expected months to absorption = sum of row i of N. Beside it
    the chain's probability of going bad within the cohort horizon, comparable to the cohort Pi.
  - cohort: every account seen in bucket i at a month end with the whole horizon observed after
    it (later month ends are censored out), followed for cohort_horizon_months; Pi = share that
    reached the bad state, with a 95% Wilson interval. An account that leaves the data before
    its horizon without reaching bad or paid off is censored (left out of that cohort).
#}
with

pooled as (

    select * from {{ ref('fct_roll_rates_pooled') }}

),

states as (

    select * from {{ ref('int_loan_month_end_states') }}

),

definitions as (

    select * from {{ ref('bad_debt_definitions') }}

),

buckets as (

    select * from {{ ref('delinquency_buckets') }}

),

-- Markov ------------------------------------------------------------------------------------

chain_moves as (

    select
        pooled.portfolio,
        pooled.asset_class,
        pooled.from_state,
        case
            when pooled.to_state = 'paid_off' then 'paid_off'
            when pooled.to_state_order >= definitions.bad_state_order then 'bad'
            else pooled.to_state
        end as to_state,
        pooled.accounts,
        pooled.window_first_month_end,
        pooled.window_last_month_end
    from pooled
    inner join definitions on pooled.portfolio = definitions.portfolio
    where pooled.from_state_order < definitions.bad_state_order

),

chain_probabilities as (

    select
        portfolio, asset_class, from_state, to_state,
        cast(sum(accounts) as double) / sum(sum(accounts)) over (partition by portfolio, asset_class, from_state)
            as probability
    from chain_moves
    group by portfolio, asset_class, from_state, to_state

),

transient_moves as (

    select * from chain_probabilities where to_state not in ('bad', 'paid_off')

),

bad_moves as (

    select * from chain_probabilities where to_state = 'bad'

),

{{ absorbing_chain_ctes('transient_moves', ['portfolio', 'asset_class']) }},

-- Within the cohort horizon H: V(k+1) = R[., bad] + Q V(k), V(0) = 0; V(H) is comparable to the cohort Pi.
{% set max_horizon = var('max_cohort_horizon_months') %}
horizon_0 as (

    select portfolio, asset_class, state as from_state, cast(0 as double) as value from chain_states

),
{% for k in range(max_horizon) %}
horizon_{{ k + 1 }} as (

    select
        chain_states.portfolio,
        chain_states.asset_class,
        chain_states.state as from_state,
        coalesce(max(bad_moves.probability), 0) + coalesce(sum(transient_moves.probability * previous.value), 0)
            as value
    from chain_states
    left join bad_moves
        on chain_states.portfolio = bad_moves.portfolio and chain_states.asset_class = bad_moves.asset_class
        and chain_states.state = bad_moves.from_state
    left join transient_moves
        on chain_states.portfolio = transient_moves.portfolio and chain_states.asset_class = transient_moves.asset_class
        and chain_states.state = transient_moves.from_state
    left join horizon_{{ k }} as previous
        on transient_moves.portfolio = previous.portfolio and transient_moves.asset_class = previous.asset_class
        and transient_moves.to_state = previous.from_state
    group by chain_states.portfolio, chain_states.asset_class, chain_states.state

),
{% endfor %}
markov_within_horizon as (

    {% for k in range(1, max_horizon + 1) %}
    select horizon_{{ k }}.portfolio, horizon_{{ k }}.asset_class, horizon_{{ k }}.from_state as bucket,
           horizon_{{ k }}.value as markov_pi_within_horizon
    from horizon_{{ k }}
    inner join definitions
        on horizon_{{ k }}.portfolio = definitions.portfolio and definitions.cohort_horizon_months = {{ k }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

markov_lifetime as (

    select
        chain_fundamental.portfolio,
        chain_fundamental.asset_class,
        chain_fundamental.from_state as bucket,
        sum(case when absorbing.to_state = 'bad'
            then chain_fundamental.expected_visits * absorbing.probability else 0 end) as markov_pi,
        sum(case when absorbing.to_state = 'paid_off'
            then chain_fundamental.expected_visits * absorbing.probability else 0 end) as markov_paid_off_probability
    from chain_fundamental
    inner join chain_probabilities as absorbing
        on chain_fundamental.portfolio = absorbing.portfolio
        and chain_fundamental.asset_class = absorbing.asset_class
        and chain_fundamental.to_state = absorbing.from_state
        and absorbing.to_state in ('bad', 'paid_off')
    group by chain_fundamental.portfolio, chain_fundamental.asset_class, chain_fundamental.from_state

),

expected_months as (

    select portfolio, asset_class, from_state as bucket, sum(expected_visits) as expected_months_to_absorption
    from chain_fundamental
    group by portfolio, asset_class, from_state

),

markov as (

    select *, abs(markov_pi + markov_paid_off_probability - 1) < 0.000001 as is_absorbed
    from markov_lifetime

),

markov_windows as (

    select portfolio, asset_class, from_state as bucket, cast(sum(accounts) as bigint) as transitions_observed,
           min(window_first_month_end) as window_first_month_end, max(window_last_month_end) as window_last_month_end
    from chain_moves
    group by portfolio, asset_class, from_state

),

-- Cohort ------------------------------------------------------------------------------------

last_month_ends as (

    select portfolio, max(month_end) as last_month_end from states group by portfolio

),

cohort_members as (

    select
        states.portfolio,
        states.asset_class,
        states.loan_id,
        states.month_end,
        states.state as bucket,
        cast({{ dbt.last_day(dbt.dateadd('month', 'definitions.cohort_horizon_months', 'states.month_end'), 'month') }}
            as date) as horizon_end,
        definitions.bad_state_order
    from states
    inner join definitions on states.portfolio = definitions.portfolio
    inner join last_month_ends on states.portfolio = last_month_ends.portfolio
    where states.state_order < definitions.bad_state_order
      and states.state_order < 100
      and {{ dbt.last_day(dbt.dateadd('month', 'definitions.cohort_horizon_months', 'states.month_end'), 'month') }}
        <= last_month_ends.last_month_end

),

cohort_outcomes as (

    select
        cohort_members.portfolio,
        cohort_members.asset_class,
        cohort_members.loan_id,
        cohort_members.month_end,
        cohort_members.bucket,
        max(case when later.state_order >= cohort_members.bad_state_order and later.state_order <> 100
            then 1 else 0 end) as went_bad,
        max(case when later.state_order >= cohort_members.bad_state_order or later.state_order >= 100
            then 1 else 0 end) as reached_an_end,
        max(later.month_end) as last_seen_month_end,
        max(cohort_members.horizon_end) as horizon_end
    from cohort_members
    left join states as later
        on cohort_members.portfolio = later.portfolio
        and cohort_members.loan_id = later.loan_id
        and later.month_end > cohort_members.month_end
        and later.month_end <= cohort_members.horizon_end
    group by cohort_members.portfolio, cohort_members.asset_class, cohort_members.loan_id,
        cohort_members.month_end, cohort_members.bucket

),

observed_outcomes as (

    -- An account that leaves the data before its horizon without reaching bad or paid off is
    -- censored: counting it as "not bad" would bias Pi down.
    select * from cohort_outcomes
    where reached_an_end = 1 or last_seen_month_end = horizon_end

),

cohort_by_class as (

    select portfolio, asset_class, bucket, count(*) as accounts, cast(sum(went_bad) as bigint) as bad_accounts,
           min(month_end) as first_cohort_month_end, max(month_end) as last_cohort_month_end
    from observed_outcomes
    group by portfolio, asset_class, bucket

    union all

    select portfolio, 'all' as asset_class, bucket, count(*) as accounts, cast(sum(went_bad) as bigint) as bad_accounts,
           min(month_end) as first_cohort_month_end, max(month_end) as last_cohort_month_end
    from observed_outcomes
    group by portfolio, bucket

),

cohort as (

    -- Wilson score interval, z = 1.96
    select
        *,
        cast(bad_accounts as double) / accounts as cohort_pi,
        {{ wilson_bound('bad_accounts', 'accounts', -1) }} as cohort_pi_low,
        {{ wilson_bound('bad_accounts', 'accounts', 1) }} as cohort_pi_high
    from cohort_by_class

),

final as (

    select
        markov_windows.portfolio,
        markov_windows.asset_class,
        markov_windows.bucket,
        buckets.bucket_order,
        definitions.definition as bad_definition,

        -- lifetime Pi only where the chain is absorbed (a tape without closures never is)
        -- (rounded: the doubling sums carry float noise in the last digits)
        case when markov.is_absorbed then round(markov.markov_pi, 12) end as markov_pi,
        case when markov.is_absorbed then round(markov.markov_paid_off_probability, 12) end
            as markov_paid_off_probability,
        case when markov.is_absorbed then round(expected_months.expected_months_to_absorption, 9) end
            as expected_months_to_absorption,
        round(markov_within_horizon.markov_pi_within_horizon, 12) as markov_pi_within_horizon,
        markov_windows.transitions_observed,
        markov_windows.window_first_month_end,
        markov_windows.window_last_month_end,

        cohort.cohort_pi,
        cohort.cohort_pi_low,
        cohort.cohort_pi_high,
        cohort.accounts as cohort_accounts,
        cohort.bad_accounts as cohort_bad_accounts,
        definitions.cohort_horizon_months,
        cohort.first_cohort_month_end,
        cohort.last_cohort_month_end

    from markov_windows
    inner join definitions on markov_windows.portfolio = definitions.portfolio
    inner join buckets on markov_windows.bucket = buckets.bucket
    left join markov
        on markov_windows.portfolio = markov.portfolio
        and markov_windows.asset_class = markov.asset_class
        and markov_windows.bucket = markov.bucket
    left join markov_within_horizon
        on markov_windows.portfolio = markov_within_horizon.portfolio
        and markov_windows.asset_class = markov_within_horizon.asset_class
        and markov_windows.bucket = markov_within_horizon.bucket
    left join expected_months
        on markov_windows.portfolio = expected_months.portfolio
        and markov_windows.asset_class = expected_months.asset_class
        and markov_windows.bucket = expected_months.bucket
    left join cohort
        on markov_windows.portfolio = cohort.portfolio
        and markov_windows.asset_class = cohort.asset_class
        and markov_windows.bucket = cohort.bucket

)

select * from final
