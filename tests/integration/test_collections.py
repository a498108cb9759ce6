"""Collections marts on the generated book, against what the generator planted (promise outcomes,
escalation lapses, borrower types, events) and against counts taken straight from the ledger files."""

import datetime as dt
from collections import defaultdict

import pytest

from tests.conftest import query

pytestmark = pytest.mark.xdist_group("book")  # the shared book: tests/integration/conftest.py


def ledger(book, name):
    return f"read_parquet('{book}/landing/2*/{name}.parquet')"


def planted(book, name):
    return f"read_parquet('{book}/landing/_truth/{name}.parquet')"


def test_every_promise_resolves_as_planted(book):
    rows = query(book, f"""
        select coalesce(resolved.promise_status, 'missing'), coalesce(nullif(truth.planted_promise, ''), 'none'), count(*)
        from intermediate.int_collection_promises_resolved as resolved
        full join {planted(book, 'planted_collection')} as truth using (action_id)
        where truth.planted_promise <> '' or resolved.action_id is not null
        group by all""")
    counts = {(status, truth): n for status, truth, n in rows}
    assert set(counts) == {("kept", "kept"), ("partial", "partial"), ("broken", "broken")}, counts
    assert min(counts.values()) >= 100, counts


def test_monthly_kpis_equal_counts_from_the_ledger(book):
    mart = query(book, """
        select collector_id, action_month, sum(actions), sum(calls_dialled), sum(calls_connected),
            sum(effective_contacts), sum(promises), sum(promises_kept), sum(promises_partial), sum(promises_broken),
            sum(promised_amount)
        from marts.fct_collection_kpis_monthly group by all""")
    from_ledger = query(book, f"""
        select collector_id, date_trunc('month', action_date)::date, count(*), count(*) filter (action_type = 'call'),
            count(*) filter (outcome = 'connected'), count(*) filter (reached_borrower),
            count(*) filter (promise_amount is not null), count(*) filter (planted_promise = 'kept'),
            count(*) filter (planted_promise = 'partial'), count(*) filter (planted_promise = 'broken'),
            coalesce(sum(promise_amount), 0)
        from {ledger(book, 'collection_actions')} as actions
        join {planted(book, 'planted_collection')} as truth using (action_id)
        group by all""")
    assert len(mart) > 200
    assert {r[:2]: tuple(float(x) for x in r[2:]) for r in mart} == \
        {r[:2]: tuple(pytest.approx(float(x)) for x in r[2:]) for r in from_ledger}


def test_escalation_lapses_are_the_planted_ones(book):
    found = {r[0] for r in query(book, "select action_id from marts.fct_collection_escalation_lapses")}
    truth = {r[0] for r in query(book, f"select action_id from {planted(book, 'planted_collection')} where planted_lapse")}
    assert len(truth) > 300 and found == truth


def test_quadrants_recover_the_planted_borrower_types(book):
    rows = query(book, f"""
        select quadrants.is_willing, quadrants.is_able, truth.willing, truth.able,
            quadrants.promises_resolved > 0, quadrants.income_cover is not null, quadrants.calls_dialled > 0
        from marts.fct_collection_quadrants as quadrants
        join {planted(book, 'borrower_types')} as truth using (loan_id)""")
    with_income = [(able, truly_able) for _, able, _, truly_able, _, income, _ in rows if income]
    with_promises = [(willing, truly_willing) for willing, _, truly_willing, _, promised, _, _ in rows if promised]
    called_only = [(willing, truly_willing) for willing, _, truly_willing, _, promised, _, called in rows
                   if called and not promised]
    # ability from declared income and willingness from promises separate the planted types exactly
    assert len(with_income) > 1000 and all(a == b for a, b in with_income)
    assert len(with_promises) > 300 and all(a == b for a, b in with_promises)
    # from reachability alone it is a noisy guess, but a good one
    agreement = sum(a == b for a, b in called_only) / len(called_only)
    assert len(called_only) > 1000 and agreement > 0.75, agreement


def streak_hits(rows, failed, threshold, day_of):
    """(loan, day) where the threshold-th failure in a row happened; rows sorted by loan, then time."""
    hits, streak, previous_loan = set(), 0, None
    for row in rows:
        loan_id = row[0]
        streak = 0 if loan_id != previous_loan else streak
        previous_loan = loan_id
        streak = streak + 1 if failed(row) else 0
        if streak == threshold:
            hits.add((loan_id, day_of(row)))
    return hits


def signals(book, rule_id):
    return set(query(book, "select loan_id, signal_date from marts.fct_warning_signals where rule_id = ?", [rule_id]))


def test_promise_broken_twice_fires_where_the_generator_broke_two_in_a_row(book):
    rows = query(book, f"""
        select loan_id, planted_promise, promise_date from {ledger(book, 'collection_actions')} as actions
        join {planted(book, 'planted_collection')} as truth using (action_id)
        where planted_promise <> '' order by loan_id, action_date, action_id""")
    truth = streak_hits(rows, lambda r: r[1] == "broken", 2, lambda r: r[2] + dt.timedelta(days=1))
    assert len(truth) > 30 and signals(book, "WS02") == truth


def test_unreachable_fires_on_the_third_unanswered_call_in_a_row(book):
    rows = query(book, f"""
        select loan_id, outcome, action_date from {ledger(book, 'collection_actions')}
        where action_type = 'call' order by loan_id, action_date, action_id""")
    truth = streak_hits(rows, lambda r: r[1] != "connected", 3, lambda r: r[2])
    assert len(truth) > 100 and signals(book, "WS03") == truth


def test_event_rules_fire_on_the_planted_events(book):
    rules = query(book, "select rule_id, event_type, threshold, lookback_days from config.warning_rules "
                        "where event_type is not null")
    events = defaultdict(list)
    for loan_id, event_type, day in query(book, f"select loan_id, event_type, event_date "
                                                f"from {ledger(book, 'borrower_events')} order by event_date"):
        events[event_type].append((loan_id, day))
    for rule_id, event_type, threshold, lookback in rules:
        truth = {(loan_id, day) for loan_id, day in events[event_type]
                 if sum(1 for other, d in events[event_type]
                        if other == loan_id and day - dt.timedelta(days=lookback) < d <= day) >= threshold}
        assert signals(book, rule_id) == truth, rule_id
        assert truth or threshold > 1, rule_id


def test_planted_warning_events_pick_out_loans_that_roll(book):
    """The generator plants most events just before a first missed installment."""
    rows = query(book, "select rule_id, flagged_loans, lift from marts.fct_warning_rule_lift "
                       "where rule_id in (select rule_id from config.warning_rules where threshold = 1)")
    assert len(rows) == 9
    for rule_id, flagged, lift in rows:
        assert flagged >= 50 and lift > 2, (rule_id, flagged, lift)
