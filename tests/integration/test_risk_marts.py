"""Risk marts on a generated book, checked against the generator's truth and a second method (numpy)."""

import json
import os
import shutil
import subprocess

import duckdb
import numpy as np
import pytest

from dagster_project.lib.settings import DBT_DIR, DBT_EXECUTABLE
from demo_book.generator import OPEN_STATES, STATES
from tests.conftest import query, saved_parse_at, warehouse_at

pytestmark = pytest.mark.xdist_group("book")  # the shared book: tests/integration/conftest.py

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


def within_horizon(q: np.ndarray, r: np.ndarray, horizon: int) -> np.ndarray:
    """Probability of absorption in each column of r within `horizon` months: sum_k<h Q^k R, by matrix powers."""
    total, power = np.zeros_like(r), np.eye(len(q))
    for _ in range(horizon):
        total += power @ r
        power = power @ q
    return total


def pooled_chain(book, asset_class):
    """The chain of fct_bad_debt_probability_by_horizon, rebuilt in numpy: the pooled counts, each row of
    the asset class blended with the whole book's row by sqrt(moves / 100) (at most 1)."""
    rows = query(book, "select asset_class, from_state, to_state, accounts from marts.fct_roll_rates_pooled "
                       "where portfolio = 'book' and asset_class in (?, 'all')", [asset_class])
    states = sorted({f for a, f, _, _ in rows if a == "all"}, key=BUCKETS.index)
    counts = {a: np.zeros((len(states), len(STATES))) for a in (asset_class, "all")}
    for a, f, t, n in rows:
        counts[a][states.index(f), STATES.index(t)] += n
    own, book_wide = counts[asset_class], counts["all"]
    moves = own.sum(axis=1, keepdims=True)
    weight = np.minimum(1, np.sqrt(moves / 100))
    rate = weight * np.divide(own, moves, out=np.zeros_like(own), where=moves > 0) + (1 - weight) * (
        book_wide / book_wide.sum(axis=1, keepdims=True))
    index = [STATES.index(s) for s in states]
    q = rate[:, index]
    r = rate[:, [STATES.index("written_off"), STATES.index("paid_off")]]
    return states, q, r


def test_pi_by_horizon_equals_the_matrix_powers_of_the_blended_chain(book):
    """Second method: numpy's sum of Q^k R over the same pooled, blended matrix."""
    pi = {(a, b, h): (p, paid) for a, b, h, p, paid in query(
        book, "select asset_class, bucket, horizon_months, markov_pi, markov_paid_off_probability "
              "from marts.fct_bad_debt_probability_by_horizon where portfolio = 'book'")}
    longest = max(h for _, _, h in pi)
    assert longest >= 240  # mortgages of 20 years: the term structure reaches their remaining life
    for asset_class in {a for a, _, _ in pi}:
        states, q, r = pooled_chain(book, asset_class)
        for horizon in (1, 12, 60, longest):
            expected = within_horizon(q, r, horizon)
            for i, state in enumerate(states):
                assert pi[(asset_class, state, horizon)][0] == pytest.approx(expected[i, 0], abs=1e-9)
                assert pi[(asset_class, state, horizon)][1] == pytest.approx(expected[i, 1], abs=1e-9)


def test_pi_within_12_and_36_months_is_consistent_with_the_truth(book):
    """The estimator run on books drawn from the truth (parametric bootstrap: each row's moves drawn from the
    true matrix with the book's own number of moves, the book-wide row their sum, the same credibility blend)
    centres where the estimate lies: within 4.5 standard errors. Where no row is blended this is the truth's
    own Pi(i, h); where rows are blended it includes the blend's pull towards the book (its own unit test
    checks the arithmetic)."""
    truth = truth_matrix(book)
    estimates = {(a, b, h): p for a, b, h, p in query(
        book, "select asset_class, bucket, horizon_months, markov_pi from marts.fct_bad_debt_probability_by_horizon "
              "where portfolio = 'book' and asset_class <> 'all' and transitions_observed >= 1000 "
              "and horizon_months in (12, 36)")}
    moves = dict(((a, f), n) for a, f, n in query(
        book, "select distinct asset_class, from_state, from_accounts from marts.fct_roll_rates_pooled "
              "where portfolio = 'book' and asset_class <> 'all'"))
    classes = sorted({a for a, _ in moves})
    n = np.array([[moves.get((a, f), 0) for f in BUCKETS] for a in classes])
    weight = np.minimum(1, np.sqrt(n / 100))[:, :, None]
    true_rows = np.array([[[truth[(a, f, t)] for t in STATES] for f in BUCKETS] for a in classes])
    absorbing = [STATES.index("written_off"), STATES.index("paid_off")]
    rng = np.random.default_rng(0)
    draws = {h: [] for h in (12, 36)}
    for _ in range(200):
        counts = np.array([[rng.multinomial(n[c, i], true_rows[c, i]) for i in range(len(BUCKETS))]
                           for c in range(len(classes))]).astype(float)
        book_rows = counts.sum(axis=0)
        own = np.divide(counts, n[:, :, None], out=np.zeros_like(counts), where=n[:, :, None] > 0)
        rates = weight * own + (1 - weight) * book_rows / book_rows.sum(axis=1, keepdims=True)
        for h in draws:
            draws[h].append([within_horizon(r[:, :len(BUCKETS)], r[:, absorbing], h)[:, 0] for r in rates])
    checked = 0
    for (asset_class, bucket, h), estimate in estimates.items():
        c, i = classes.index(asset_class), BUCKETS.index(bucket)
        centre, spread = np.mean(draws[h], axis=0)[c, i], np.std(draws[h], axis=0)[c, i]
        assert abs(estimate - centre) <= 4.5 * spread + 1e-3, (asset_class, bucket, h, estimate, centre, spread)
        checked += 1
    assert checked >= 12


def test_few_events_are_not_zero_risk(book):
    """Mortgages are rarely written off in a year: their Pi and their expected loss are still above 0."""
    (pi, weight), = query(book, "select markov_pi_within_horizon, credibility_weight from marts.fct_bad_debt_probability "
                                "where portfolio = 'book' and asset_class = 'mortgage' and bucket = 'M0'")
    assert pi > 0
    rows = query(book, "select asset_class, sum(exposure), sum(expected_loss_12m), sum(expected_loss_remaining_life) "
                       "from marts.fct_expected_loss where month_end = (select max(month_end) "
                       "from marts.fct_expected_loss) group by all")
    assert rows and all(exposure == 0 or (loss_12m > 0 and life >= loss_12m) for _, exposure, loss_12m, life in rows)


def test_the_expected_loss_is_plausible(book):
    """The 12-month expected loss of a book stays a small share of its exposure, and below the remaining-life one."""
    for asset_class, exposure, loss_12m, life in query(
            book, "select asset_class, sum(exposure), sum(expected_loss_12m), sum(expected_loss_remaining_life) "
                  "from marts.fct_expected_loss where month_end = (select max(month_end) from marts.fct_expected_loss) "
                  "group by all"):
        assert loss_12m <= life <= exposure, asset_class
        assert loss_12m / exposure < 0.2, (asset_class, loss_12m / exposure)


def test_workout_lgd_recovers_the_planted_recovery_rate(book):
    """Where at least 5 workouts are complete, the recovery rate's interval holds the rate the generator planted;
    the LGD used is the workout LGD only with var lgd_min_mature_workouts (30) of them, else the seed's."""
    planted = json.loads((book / "landing" / "_truth" / "recovery_rates.json").read_text())["recovery_rate"]
    rows = query(book, "select asset_class, recovery_rate, recovery_rate_low, recovery_rate_high, complete_workouts, "
                       "lgd_source, loss_given_default, workout_lgd from marts.fct_loss_given_default")
    estimated = [r for r in rows if r[4] >= 5]
    assert len(estimated) >= 2, rows
    for asset_class, rate, low, high, workouts, _, _, workout_lgd in estimated:
        assert low <= planted[asset_class] <= high, (asset_class, rate, low, high, planted[asset_class], workouts)
        assert workout_lgd >= 1 - high - 1e-9  # discounting only raises the LGD
    for asset_class, *_, workouts, source, lgd, workout_lgd in rows:
        assert (source, lgd) == (("workout", workout_lgd) if workouts >= 30 else ("seed", 1)), asset_class


@pytest.mark.parametrize("model, tamper, test_name", [
    ("fct_roll_rates_pooled", "update marts.fct_roll_rates_pooled set account_rate = account_rate + 0.01 "
                              "where rowid = (select min(rowid) from marts.fct_roll_rates_pooled)", "sums_to_one"),
    ("fct_roll_rates_monthly", "update marts.fct_roll_rates_monthly set account_rate = 0 "
                               "where rowid = (select min(rowid) from marts.fct_roll_rates_monthly)", "sums_to_one"),
    ("fct_bad_debt_probability", "update marts.fct_bad_debt_probability set markov_pi_within_horizon = 1.5 "
                                 "where bucket = 'M1'", "expression_holds"),
    ("fct_expected_loss", "update marts.fct_expected_loss set bad_debt_estimate_m = bad_debt_estimate_m "
                          "+ 100 where bucket = 'M2'", "assert_expected_loss_total_is_the_sum_of_its_parts"),
    ("fct_overdue_matrix", "update marts.fct_overdue_matrix set accounts = accounts + 1 "
                           "where rowid = (select min(rowid) from marts.fct_overdue_matrix)",
     "assert_overdue_matrix_reconciles_with_aging"),
    ("fct_collection_quadrants", "update marts.fct_collection_quadrants set treatment = null "
                                 "where rowid = (select min(rowid) from marts.fct_collection_quadrants)",
     "not_null_fct_collection_quadrants_treatment"),
    ("fct_collection_quadrants", "update marts.fct_collection_quadrants set pressure_level = null "
                                 "where rowid = (select min(rowid) from marts.fct_collection_quadrants)",
     "not_null_fct_collection_quadrants_pressure_level"),
    ("fct_collection_quadrants", "update marts.fct_collection_quadrants set quadrant = 'V' "
                                 "where rowid = (select min(rowid) from marts.fct_collection_quadrants)",
     "accepted_values"),
])
def test_data_tests_fail_on_a_broken_mart(book, tmp_path, model, tamper, test_name):
    shutil.copy(book / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute(tamper)
    dbt = [str(DBT_EXECUTABLE), "test", "--profiles-dir", ".", "--select", model,
           "--target-path", str(saved_parse_at(tmp_path))]
    with warehouse_at(tmp_path):
        out = subprocess.run(dbt, cwd=DBT_DIR, env=os.environ, capture_output=True, text=True)
    assert "Unable to do partial parsing" not in out.stdout
    assert out.returncode != 0
    failed = [line for line in out.stdout.splitlines() if " FAIL " in line]
    # only the rule that was broken fails: on the untouched warehouse they all passed in run_pipeline's dbt build
    assert failed and all(test_name in line for line in failed), out.stdout[-2000:]
