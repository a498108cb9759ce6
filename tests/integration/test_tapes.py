"""Month-end tapes through the pipeline: a warehouse of tapes only, and the generated book as a tape."""

import os
import shutil
import subprocess

import duckdb
import pytest

from dagster_project.lib.settings import DBT_DIR, DBT_EXECUTABLE, UCI_MAPPING, UCI_TAPE
from dagster_project.lib.tapes import land_tape, load_tape, tape_mapping
from dagster_project.pipeline import run_pipeline
from tests.conftest import query, warehouse_at

pytestmark = pytest.mark.xdist_group("book")  # the shared book: tests/integration/conftest.py

RISK_MODELS = ("int_loan_month_end_states int_loan_state_transitions int_bad_debt_definitions fct_roll_rates_monthly "
               "fct_roll_rates_pooled fct_bad_debt_probability_by_horizon")


@pytest.fixture(scope="module")
def tapes_only(tmp_path_factory):
    """A fresh warehouse with no ledger at all: the UCI tape landed with its mapping, then `lending run`
    without days (tapes and marts only)."""
    if not UCI_TAPE.exists():
        pytest.skip("needs ../shared/data/uci_credit_card")
    folder = tmp_path_factory.mktemp("tapes_only")
    with warehouse_at(folder):
        land_tape(UCI_TAPE, UCI_MAPPING, folder / "tapes", "uci_credit_card")
        run_pipeline(None, None)
    return folder


def test_a_warehouse_of_tapes_only_builds_and_publishes_the_marts(tapes_only):
    with duckdb.connect(str(tapes_only / "bi" / "lending_bi.duckdb"), read_only=True) as bi:
        (transitions,) = bi.execute("select sum(accounts) from fct_roll_rates_monthly "
                                    "where portfolio = 'uci_credit_card' and asset_class = 'all'").fetchone()
        definitions = bi.execute("select distinct bad_definition from fct_bad_debt_probability "
                                 "where portfolio = 'uci_credit_card'").fetchall()
    assert transitions == 30_000 * 5  # six month ends, five moves per account
    assert definitions == [("more than 90 days past due (M4 or worse): the tape has no write-offs",)]


def test_uci_tape_goes_through_the_same_models(tapes_only):
    rows = query(tapes_only, "select bucket, markov_pi_within_horizon, cohort_pi, cohort_pi_low, cohort_pi_high "
                             "from marts.fct_bad_debt_probability where portfolio = 'uci_credit_card' "
                             "and asset_class = 'all' and cohort_accounts > 500")
    assert {r[0] for r in rows} >= {"M0", "M2", "M3"}
    for bucket, markov, cohort, low, high in rows:  # the two methods agree on real data
        assert low - 0.01 <= markov <= high + 0.01, (bucket, markov, cohort)


def test_the_book_written_as_a_tape_gives_the_same_roll_rates_and_pi(book, tmp_path):
    """Round trip: the generated book's month ends as a tape in the contract's layout (Parquet), and again in a
    foreign layout (CSV, renamed columns, status letters, a month index) through a mapping."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(book / "warehouse.duckdb", warehouse)
    states = ("from intermediate.int_loan_month_end_states where portfolio = 'book'")
    status = "case when state in ('paid_off', 'written_off') then state else 'active' end"
    mapping = tmp_path / "foreign.yaml"
    mapping.write_text("contract: month_end_tape\nconstants: {portfolio: foreign}\n"
                       "columns: {loan_id: ACCT, asset_class: CLASS, days_past_due: DPD, status: ST, balance: BAL}\n"
                       "codes: {status: {A: active, P: paid_off, W: written_off}}\n"
                       "month_index: {column: MONTH_NO, anchor: 2025-01-31}\n")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"copy (select 'contract' as portfolio, loan_id, asset_class, month_end, days_past_due, "
                    f"{status} as status, outstanding_principal as balance {states}) to '{tmp_path}/contract.parquet'")
        con.execute(f"copy (select loan_id as ACCT, asset_class as CLASS, datediff('month', date '2025-01-31', "
                    f"month_end) as MONTH_NO, days_past_due as DPD, upper(left({status}, 1)) as ST, "
                    f"outstanding_principal as BAL {states}) to '{tmp_path}/foreign.csv'")
        for path, mapping_file in ((tmp_path / "contract.parquet", None), (tmp_path / "foreign.csv", mapping)):
            loaded = load_tape(con, path, tape_mapping(mapping_file, None))
            assert loaded.quarantined == 0 and loaded.rows > 100_000
    env = {**os.environ, "LENDING_WAREHOUSE": str(warehouse)}
    subprocess.run([str(DBT_EXECUTABLE), "run", "--quiet", "--profiles-dir", ".", "--select",
                    *RISK_MODELS.split(), "--target-path", str(tmp_path / "target")], cwd=DBT_DIR, env=env, check=True)
    pooled = "select * exclude (portfolio) from marts.fct_roll_rates_pooled where portfolio = '{}'"
    pi = "select * exclude (portfolio, bad_definition) from marts.fct_bad_debt_probability_by_horizon where portfolio = '{}'"
    for sql in (pooled, pi):
        book_rows = sorted(query(tmp_path, sql.format("book")), key=lambda row: row[:5])
        assert book_rows
        for portfolio in ("contract", "foreign"):
            rows = sorted(query(tmp_path, sql.format(portfolio)), key=lambda row: row[:5])
            assert len(rows) == len(book_rows), (sql, portfolio)
            for row, book_row in zip(rows, book_rows, strict=False):  # the same up to float noise in the last digits
                assert [v if isinstance(v, float) else str(v) for v in row] == [
                    pytest.approx(v, rel=1e-9) if isinstance(v, float) else str(v) for v in book_row], (sql, portfolio)
