{#
  Pi(i, h) (坏账概率的期限结构): the probability that an account in bucket i goes bad within h
  months, for every h from 1 to the longest remaining life of the book's loans, per portfolio and
  asset class, by two methods side by side (bad as defined in int_bad_debt_definitions: the seed, or a default):

  - markov: the pooled roll-rate matrix (fct_roll_rates_pooled) as a chain with two absorbing
    states, bad and paid off. Rows of an asset class with few moves are blended with the whole
    portfolio's row: weight z = min(1, sqrt(moves / var credibility_full_transitions)). Then
    V(i, h + 1) = R(i, bad) + sum_j Q(i, j) V(j, h) from V(i, 0) = 0 (a recursion over h, in the
    macro markov_chain_steps), and the same for paid off and for the expected months still open,
    E(i, h + 1) = 1 + sum_j Q E(j, h).
    A loan that goes bad in month t stopped paying when it started its shortest road to bad (from
    bucket i to bad takes d = the bucket steps between them, to written off one more): it paid
    max(0, t - d) installments first. installments_paid_before_bad is their mean over the loans
    that go bad within h months, sum_t (V(i, t) - V(i, t - 1)) max(0, t - d) / V(i, h); the
    expected loss turns it into the exposure at default.
  - cohort: at the horizons of var cohort_horizons_months, every account seen in bucket i at a
    month end whose horizon is observed (the portfolio's data reach it, and the account is seen
    at its end or reached bad or paid off before), the share that went bad, with a 95% Wilson
    interval. An account that leaves the data early without an end is censored.
#}
with recursive

pooled as (

    select * from {{ ref('fct_roll_rates_pooled') }}

),

states as (

    select * from {{ ref('int_loan_month_end_states') }}

),

definitions as (

    select * from {{ ref('int_bad_debt_definitions') }}

),

buckets as (

    select * from {{ ref('delinquency_buckets') }}

),

loans as (

    select * from {{ ref('dim_loans') }}

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
        pooled.accounts
    from pooled
    inner join definitions on pooled.portfolio = definitions.portfolio
    where pooled.from_state_order < definitions.bad_state_order

),

class_rows as (

    select
        portfolio, asset_class, from_state, to_state,
        sum(accounts) as accounts,
        sum(sum(accounts)) over (partition by portfolio, asset_class, from_state) as from_accounts
    from chain_moves
    group by portfolio, asset_class, from_state, to_state

),

portfolio_rows as (

    select * from class_rows where asset_class = 'all'

),

class_states as (

    -- every asset class gets a row for every state the whole portfolio has a row for
    select distinct classes.portfolio, classes.asset_class, portfolio_rows.from_state
    from (select distinct portfolio, asset_class from class_rows) as classes
    inner join portfolio_rows on classes.portfolio = portfolio_rows.portfolio

),

credibility as (

    select
        class_states.portfolio,
        class_states.asset_class,
        class_states.from_state,
        cast(coalesce(max(class_rows.from_accounts), 0) as bigint) as transitions_observed,
        least(1.0, sqrt(cast(coalesce(max(class_rows.from_accounts), 0) as double)
            / {{ var('credibility_full_transitions') }})) as credibility_weight
    from class_states
    left join class_rows
        on class_states.portfolio = class_rows.portfolio
        and class_states.asset_class = class_rows.asset_class
        and class_states.from_state = class_rows.from_state
    group by class_states.portfolio, class_states.asset_class, class_states.from_state

),

targets as (

    select portfolio, asset_class, from_state, to_state from class_rows
    union
    select class_states.portfolio, class_states.asset_class, class_states.from_state, portfolio_rows.to_state
    from class_states
    inner join portfolio_rows
        on class_states.portfolio = portfolio_rows.portfolio and class_states.from_state = portfolio_rows.from_state

),

blended as (

    select
        targets.portfolio,
        targets.asset_class,
        targets.from_state,
        targets.to_state,
        credibility.credibility_weight * coalesce(cast(class_rows.accounts as double) / class_rows.from_accounts, 0)
        + (1 - credibility.credibility_weight)
        * coalesce(cast(portfolio_rows.accounts as double) / portfolio_rows.from_accounts, 0) as probability
    from targets
    inner join credibility
        on targets.portfolio = credibility.portfolio
        and targets.asset_class = credibility.asset_class
        and targets.from_state = credibility.from_state
    left join class_rows
        on targets.portfolio = class_rows.portfolio
        and targets.asset_class = class_rows.asset_class
        and targets.from_state = class_rows.from_state
        and targets.to_state = class_rows.to_state
    left join portfolio_rows
        on targets.portfolio = portfolio_rows.portfolio
        and targets.from_state = portfolio_rows.from_state
        and targets.to_state = portfolio_rows.to_state

),

transient_moves as (

    select portfolio, asset_class, from_state, to_state, probability
    from blended
    where to_state not in ('bad', 'paid_off')
    union all
    -- a zero move onto itself, so that the recursion keeps a state with no transient move
    select distinct portfolio, asset_class, from_state, from_state, cast(0 as double) from blended

),

absorbing_moves as (

    select
        portfolio, asset_class, from_state,
        sum(case when to_state = 'bad' then probability else 0 end) as to_bad,
        sum(case when to_state = 'paid_off' then probability else 0 end) as to_paid_off
    from blended
    group by portfolio, asset_class, from_state

),

book_life as (

    -- the longest remaining life of a loan at the book's last month end
    select max({{ calendar_months_between('last_month_end.month_end', 'loans.maturity_date') }})
        + {{ var('remaining_life_tail_months') }} as months
    from loans
    cross join (select max(month_end) as month_end from states where portfolio = 'book') as last_month_end

),

horizon_limit as (

    select least(
        {{ var('max_pi_horizon_months') }},
        greatest(12, {{ var('cohort_horizons_months') | max }}, coalesce((select months from book_life), 0))
    ) as max_horizon

),

chain_steps (portfolio, asset_class, from_state, horizon_months, pi, paid_off_probability, months_open) as (

    {{ markov_chain_steps('transient_moves', 'absorbing_moves', 'horizon_limit') }}

),

bad_steps as (

    -- the months of the shortest road from each bucket to bad
    select
        definitions.portfolio,
        buckets.bucket,
        case
            when definitions.bad_state_order >= 100 then worst.bucket_order + 1
            else definitions.bad_state_order
        end - buckets.bucket_order as months_to_bad
    from definitions
    cross join buckets
    cross join (select max(bucket_order) as bucket_order from buckets) as worst

),

bad_by_month as (

    -- the probability of going bad in month h itself, and the installments paid before it
    select
        chain_steps.*,
        (chain_steps.pi - coalesce(lag(chain_steps.pi) over (
            partition by chain_steps.portfolio, chain_steps.asset_class, chain_steps.from_state
            order by chain_steps.horizon_months), 0))
        * greatest(0, chain_steps.horizon_months - bad_steps.months_to_bad) as bad_weighted_installments
    from chain_steps
    inner join bad_steps
        on chain_steps.portfolio = bad_steps.portfolio and chain_steps.from_state = bad_steps.bucket

),

chain_with_payments as (

    select
        *,
        sum(bad_weighted_installments) over (
            partition by portfolio, asset_class, from_state
            order by horizon_months
            rows between unbounded preceding and current row
        ) / nullif(pi, 0) as installments_paid_before_bad
    from bad_by_month

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
        definitions.bad_state_order
    from states
    inner join definitions on states.portfolio = definitions.portfolio
    where states.state_order < definitions.bad_state_order and states.state_order < 100

),

member_paths as (

    select
        cohort_members.portfolio,
        cohort_members.asset_class,
        cohort_members.loan_id,
        cohort_members.month_end,
        cohort_members.bucket,
        min(case when later.state_order >= cohort_members.bad_state_order and later.state_order <> 100
            then later.month_end end) as first_bad_on,
        min(case when later.state_order >= cohort_members.bad_state_order or later.state_order >= 100
            then later.month_end end) as first_end_on,
        max(later.month_end) as last_seen_on
    from cohort_members
    left join states as later
        on cohort_members.portfolio = later.portfolio
        and cohort_members.loan_id = later.loan_id
        and later.month_end > cohort_members.month_end
        and later.month_end <= {{ dbt.dateadd('month', var('cohort_horizons_months') | max + 1, 'cohort_members.month_end') }}
    group by cohort_members.portfolio, cohort_members.asset_class, cohort_members.loan_id,
        cohort_members.month_end, cohort_members.bucket

),

cohort_horizons as (

    {% for h in var('cohort_horizons_months') %}
    select {{ h }} as horizon_months
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

cohort_windows as (

    select
        member_paths.*,
        cohort_horizons.horizon_months,
        cast({{ dbt.last_day(dbt.dateadd('month', 'cohort_horizons.horizon_months', 'member_paths.month_end'),
                             'month') }} as date) as horizon_end
    from member_paths
    cross join cohort_horizons

),

cohort_observations as (

    select
        cohort_windows.portfolio,
        cohort_windows.asset_class,
        cohort_windows.bucket,
        cohort_windows.horizon_months,
        case when cohort_windows.first_bad_on <= cohort_windows.horizon_end then 1 else 0 end as went_bad
    from cohort_windows
    inner join last_month_ends on cohort_windows.portfolio = last_month_ends.portfolio
    where cohort_windows.horizon_end <= last_month_ends.last_month_end
      and (cohort_windows.first_end_on <= cohort_windows.horizon_end
           or cohort_windows.last_seen_on >= cohort_windows.horizon_end)

),

cohort_counts as (

    select portfolio, asset_class, bucket, horizon_months, count(*) as accounts,
           cast(sum(went_bad) as bigint) as bad_accounts
    from cohort_observations
    group by portfolio, asset_class, bucket, horizon_months

    union all

    select portfolio, 'all' as asset_class, bucket, horizon_months, count(*) as accounts,
           cast(sum(went_bad) as bigint) as bad_accounts
    from cohort_observations
    group by portfolio, bucket, horizon_months

),

cohort as (

    select
        *,
        cast(bad_accounts as double) / accounts as cohort_pi,
        {{ wilson_bound('bad_accounts', 'accounts', -1) }} as cohort_pi_low,
        {{ wilson_bound('bad_accounts', 'accounts', 1) }} as cohort_pi_high
    from cohort_counts

),

final as (

    select
        chain_with_payments.portfolio,
        chain_with_payments.asset_class,
        chain_with_payments.from_state as bucket,
        buckets.bucket_order,
        cast(chain_with_payments.horizon_months as integer) as horizon_months,
        definitions.definition as bad_definition,

        -- rounded: the recursion carries float noise in the last digits
        round(chain_with_payments.pi, 12) as markov_pi,
        round(chain_with_payments.paid_off_probability, 12) as markov_paid_off_probability,
        round(chain_with_payments.months_open, 9) as expected_months_open,
        round(chain_with_payments.installments_paid_before_bad, 9) as installments_paid_before_bad,
        credibility.transitions_observed,
        credibility.credibility_weight,

        cohort.cohort_pi,
        cohort.cohort_pi_low,
        cohort.cohort_pi_high,
        cast(cohort.accounts as bigint) as cohort_accounts,
        cohort.bad_accounts as cohort_bad_accounts

    from chain_with_payments
    inner join definitions on chain_with_payments.portfolio = definitions.portfolio
    inner join buckets on chain_with_payments.from_state = buckets.bucket
    inner join credibility
        on chain_with_payments.portfolio = credibility.portfolio
        and chain_with_payments.asset_class = credibility.asset_class
        and chain_with_payments.from_state = credibility.from_state
    left join cohort
        on chain_with_payments.portfolio = cohort.portfolio
        and chain_with_payments.asset_class = cohort.asset_class
        and chain_with_payments.from_state = cohort.bucket
        and chain_with_payments.horizon_months = cohort.horizon_months
    where chain_with_payments.horizon_months > 0

)

select * from final
