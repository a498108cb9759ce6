"""Risk marts on a generated book, checked against the generator's truth and a second method (numpy)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

from dagster_project.lib.generator import OPEN_STATES, STATES
from dagster_project.lib.settings import DBT_DIR
from tests.conftest import query

BUCKETS = STATES[:OPEN_STATES]


def truth_matrix(book):
    rows = query(book, f"select asset_class, from_state, to_state, probability "
                       f"from read_parquet('{book}/landing/_truth/transition_matrix.parquet')")
    return {(a, f, t): p for a, f, t, p in rows}


def test_estimated_transition_matrix_agrees_with_the_ground_truth(book):
    truth = truth_matrix(book)
    rows = query(book, "select asset_class, from_state, to_state, accounts, from_accounts "
                       "from marts.fct_roll_rates_pooled where portfolio = 'book' and asset_class <> 'all'")
    observed = {(a, f, t): (n, total) for a, f, t, n, total in rows}
    totals = {(a, f): total for a, f, _, _, total in rows}
    checked = set()
    for (asset_class, from_state), total in totals.items():
        if total < 300:
            continue
        checked.add((asset_class, from_state))
        for to_state in STATES:
            p = truth[(asset_class, from_state, to_state)]
            n = observed.get((asset_class, from_state, to_state), (0, total))[0]
            # 4.5 standard errors: about 1 in 150,000 cells of a correct generator would fail
            assert abs(n / total - p) <= 4.5 * np.sqrt(p * (1 - p) / total) + 1e-3, (asset_class, from_state, to_state,
                                                                                      n / total, p, total)
    assert {a for a, f in checked if f == "M0"} == {a for a, _ in totals} and len(checked) >= 14


def absorption(q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fundamental = np.linalg.inv(np.eye(len(q)) - q)
    return fundamental @ r, fundamental.sum(axis=1)


def test_markov_pi_is_the_absorption_probability_of_the_pooled_matrix(book):
    """Second method: numpy's inverse of I - Q on the same pooled matrix."""
    rows = query(book, "select asset_class, from_state, to_state, account_rate from marts.fct_roll_rates_pooled "
                       "where portfolio = 'book'")
    pi = {(a, b): (p, months) for a, b, p, months in query(
        book, "select asset_class, bucket, markov_pi, expected_months_to_absorption "
              "from marts.fct_bad_debt_probability where portfolio = 'book'")}
    for asset_class in {r[0] for r in rows}:
        states = sorted({r[1] for r in rows if r[0] == asset_class}, key=BUCKETS.index)
        q = np.zeros((len(states), len(states)))
        r = np.zeros((len(states), 2))  # written off, paid off
        for a, f, t, p in rows:
            if a != asset_class:
                continue
            if t in states:
                q[states.index(f), states.index(t)] = p
            else:
                r[states.index(f), 0 if t == "written_off" else 1] += p
        b, months = absorption(q, r)
        for i, state in enumerate(states):
            assert pi[(asset_class, state)][0] == pytest.approx(b[i, 0], abs=1e-9)
            assert pi[(asset_class, state)][1] == pytest.approx(months[i], rel=1e-6)


def test_markov_pi_is_close_to_the_truth_absorption(book):
    """Within 4.5 standard errors of the truth's absorption probability, the standard error from a parametric
    bootstrap: transition counts drawn from the true matrix with the book's own number of accounts per bucket."""
    truth = truth_matrix(book)
    pi = dict(((a, b), p) for a, b, p in query(
        book, "select asset_class, bucket, markov_pi from marts.fct_bad_debt_probability "
              "where portfolio = 'book' and asset_class <> 'all' and transitions_observed >= 1000"))
    observed = dict(((a, f), n) for a, f, n in query(
        book, "select distinct asset_class, from_state, from_accounts from marts.fct_roll_rates_pooled "
              "where portfolio = 'book'"))
    rng = np.random.default_rng(0)
    for asset_class in {a for a, _ in pi}:
        rows = np.array([[truth[(asset_class, f, t)] for t in STATES] for f in BUCKETS])
        exact = absorption(rows[:, :len(BUCKETS)], rows[:, [STATES.index("written_off"), STATES.index("paid_off")]])[0]
        draws = []
        for _ in range(300):
            sample = np.array([rng.multinomial(observed.get((asset_class, f), 0), row) / max(
                observed.get((asset_class, f), 0), 1) if observed.get((asset_class, f)) else row
                for f, row in zip(BUCKETS, rows)])
            q, r = sample[:, :len(BUCKETS)], sample[:, [STATES.index("written_off"), STATES.index("paid_off")]]
            if np.linalg.matrix_rank(np.eye(len(q)) - q) == len(q):
                draws.append(absorption(q, r)[0][:, 0])
        spread = np.std(draws, axis=0)
        for (a, bucket), estimate in pi.items():
            if a == asset_class:
                i = BUCKETS.index(bucket)
                assert abs(estimate - exact[i, 0]) <= 4.5 * spread[i] + 1e-3, (a, bucket, estimate, exact[i, 0],
                                                                             spread[i])


def test_uci_tape_goes_through_the_same_models(book):
    (transitions,) = query(book, "select sum(accounts) from marts.fct_roll_rates_monthly "
                                 "where portfolio = 'uci_credit_card' and asset_class = 'all'")[0]
    assert transitions == 30_000 * 5
    rows = query(book, "select bucket, markov_pi_within_horizon, cohort_pi, cohort_pi_low, cohort_pi_high "
                       "from marts.fct_bad_debt_probability where portfolio = 'uci_credit_card' "
                       "and asset_class = 'all' and cohort_accounts > 500")
    assert {r[0] for r in rows} >= {"M0", "M2", "M3"}
    for bucket, markov, cohort, low, high in rows:  # the two methods agree on real data
        assert low - 0.01 <= markov <= high + 0.01, (bucket, markov, cohort)


@pytest.mark.parametrize("model, tamper, test_name", [
    ("fct_roll_rates_pooled", "update marts.fct_roll_rates_pooled set account_rate = account_rate + 0.01 "
                              "where rowid = (select min(rowid) from marts.fct_roll_rates_pooled)", "sums_to_one"),
    ("fct_roll_rates_monthly", "update marts.fct_roll_rates_monthly set account_rate = 0 "
                               "where rowid = (select min(rowid) from marts.fct_roll_rates_monthly)", "sums_to_one"),
    ("fct_bad_debt_probability", "update marts.fct_bad_debt_probability set markov_pi_within_horizon = 1.5 "
                                 "where bucket = 'M1'", "expression_holds"),
    ("fct_expected_loss", "update marts.fct_expected_loss set total_expected_loss_markov = total_expected_loss_markov "
                          "+ 100 where bucket = 'M2'", "assert_expected_loss_total_is_the_sum_of_its_parts"),
    ("fct_overdue_matrix", "update marts.fct_overdue_matrix set accounts = accounts + 1 "
                           "where rowid = (select min(rowid) from marts.fct_overdue_matrix)",
     "assert_overdue_matrix_reconciles_with_aging"),
])
def test_data_tests_fail_on_a_broken_mart(book, tmp_path, model, tamper, test_name):
    broken = tmp_path / "warehouse.duckdb"
    shutil.copy(book / "warehouse.duckdb", broken)
    with duckdb.connect(str(broken)) as con:
        con.execute(tamper)
    env = {**os.environ, "LENDING_WAREHOUSE": str(broken)}
    dbt = [str(Path(sys.executable).parent / "dbt"), "test", "--profiles-dir", ".", "--select", model]
    out = subprocess.run(dbt, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    failed = [line for line in out.stdout.splitlines() if " FAIL " in line]
    # only the rule that was broken fails: on the untouched warehouse they all passed in run_pipeline's dbt build
    assert failed and all(test_name in line for line in failed), out.stdout[-2000:]
