"""Write, audit, publish: every expectation is broken once and seen to fail; a failed audit, a killed
publish and a reader during a publish all leave BI with a good, complete file."""

import datetime as dt
import hashlib
import shutil
import subprocess
import sys
import threading
import time

import dagster as dg
import duckdb
import pytest

from dagster_project import definitions
from dagster_project.cli import run_pipeline
from dagster_project.lib import quality
from dagster_project.lib.contract import LEDGERS
from dagster_project.lib.generator import BookConfig, generate_book
from dagster_project.lib.publish import PARQUET_LINK, published_file
from tests.conftest import query, warehouse_at
from tests.landing import loan, pay, write_book

BOOK = BookConfig(n_loans=1500, months=6, start="2025-01-01", seed=2, write_off_dpd=30)
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 6, 30)
RAW_PARAMS = quality.raw_params(FIRST, LAST)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gate")
    with warehouse_at(folder):
        generate_book(BOOK, folder / "landing")
        run_pipeline(FIRST, LAST)
    return folder


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_of(book, tmp_path):
    """A copy of the book's warehouse and its publication, to break without harm."""
    shutil.copy(book / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    shutil.copytree(book / "bi", tmp_path / "bi", symlinks=True)
    return tmp_path


def first_row(table: str) -> str:
    return f"rowid = (select min(rowid) from {table})"


def raw_breaker(suite: quality.Suite, rule: quality.Rule) -> str:
    """SQL that breaks exactly this rule on the first row of the ledger."""
    table = f"raw.{suite.name.removeprefix('raw_')}"
    where = first_row(table)
    if suite.name == "raw_schema":
        return "alter table raw.write_offs add column extra integer"
    if rule.column == "key_rows":
        return f"insert into {table} select * from {table} where {where}"
    if rule.column == "dated_on_or_before_landing":
        date_column = LEDGERS[suite.name.removeprefix("raw_")].date_column
        return f"update {table} set {date_column} = _landing_date + 1 where {where}"
    if rule.column == "loan_is_known":
        return f"update {table} set loan_id = 'NO-SUCH-LOAN' where {where}"
    if rule.column == "reversal_points_at_a_payment":
        return (f"update {table} set reverses_payment_id = 'NO-SUCH-PAYMENT' "
                f"where rowid = (select min(rowid) from {table} where payment_type = 'reversal')")
    value = {"not_null": "null", "in_set": "'bogus'"}.get(rule.kind) or str(rule.args.get("min_value", 0) - 1)
    return f"update {table} set {rule.column} = {value} where {where}"


MART_BREAKERS = {
    ("mart_roll_rates", "account_row_sum:between"):
        "update marts.fct_roll_rates_pooled set account_rate = account_rate + 0.1 where "
        + first_row("marts.fct_roll_rates_pooled"),
    ("mart_roll_rates", "balance_row_sum:between"):
        "update marts.fct_roll_rates_monthly set balance_rate = balance_rate + 0.1 where "
        "rowid = (select min(rowid) from marts.fct_roll_rates_monthly where balance_rate is not null)",
    ("mart_bad_debt_probability", "markov_pi_within_horizon:between"):
        "update marts.fct_bad_debt_probability set markov_pi_within_horizon = -0.1",
    ("mart_bad_debt_probability", "methods_agree:is_true"):  # the chain ten times the cohort, as in issue 11
        "update marts.fct_bad_debt_probability set markov_pi_within_horizon = 0.3, cohort_pi = 0.03, "
        "cohort_pi_low = 0.025, cohort_pi_high = 0.035 where asset_class = 'consumer' and bucket = 'M0'",
    ("mart_bad_debt_probability", "cohort_pi:between"): "update marts.fct_bad_debt_probability set cohort_pi = 2",
    ("mart_expected_loss", "total_is_the_sum:is_true"):
        "update marts.fct_expected_loss set bad_debt_estimate_m = bad_debt_estimate_m + 100",
    ("mart_expected_loss", "loss_where_exposure:is_true"):
        "update marts.fct_expected_loss set expected_loss_12m = 0 where asset_class = 'mortgage'",
    ("mart_overdue_matrix", "reconciles:is_true"):
        "update marts.fct_overdue_matrix set accounts = accounts + 1 "
        "where as_of_date = (select max(as_of_date) from marts.fct_overdue_matrix)",
    ("mart_days_complete", "days_since_previous:between"):
        "delete from marts.fct_portfolio_at_risk where as_of_date = date '2025-03-15'",
    ("mart_collections", "contact_rate:between"): "update marts.fct_collection_kpis_daily set contact_rate = 1.5",
    ("mart_collections", "kept_rate:between"): "update marts.fct_collection_kpis_daily set kept_rate = -1",
    ("mart_collections", "counts_add_up:is_true"):
        "update marts.fct_collection_kpis_daily set calls_connected = calls_dialled + 1",
    ("mart_quadrants", "quadrant:in_set"): "update marts.fct_collection_quadrants set quadrant = 'V'",
    ("mart_quadrants", "treatment:not_null"): "update marts.fct_collection_quadrants set treatment = null",
    ("mart_quadrants", "pressure_level:between"): "update marts.fct_collection_quadrants set pressure_level = 9",
    ("marts_without_personal_data", "column_name:not_in_set"):
        "alter table marts.fct_loan_aging_monthly add column borrower_phone varchar",
}

RAW_RULES = [(s.name, r.name) for s in quality.RAW_SUITES for r in s.rules]


def validate(folder, suite_name, params):
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        return quality.validate(con, quality.SUITES[suite_name], params)


def test_every_mart_expectation_has_a_breaker():
    assert set(MART_BREAKERS) == {(s.name, r.name) for s in quality.MART_SUITES for r in s.rules}


def test_the_untouched_book_passes_every_suite(book):
    for suite in quality.SUITES.values():
        result = validate(book, suite.name, {**RAW_PARAMS, "days": 31})
        assert result.success and result.rows > 0, result.summary()


@pytest.mark.parametrize("suite_name, rule_name", RAW_RULES)
def test_raw_expectation_fails_on_a_row_that_breaks_it(book, tmp_path, suite_name, rule_name):
    folder = copy_of(book, tmp_path)
    suite = quality.SUITES[suite_name]
    rule = next(r for r in suite.rules if r.name == rule_name)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute(raw_breaker(suite, rule))
    result = validate(folder, suite_name, RAW_PARAMS)
    assert rule_name in {f.rule for f in result.failures}, result.summary()


@pytest.mark.parametrize("suite_name, rule_name", sorted(MART_BREAKERS))
def test_broken_mart_stops_the_publication_and_bi_keeps_the_last_good_file(book, tmp_path, suite_name, rule_name):
    folder = copy_of(book, tmp_path)
    before = digest(published_file(folder / "bi"))
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute(MART_BREAKERS[(suite_name, rule_name)])
    with warehouse_at(folder):
        result = definitions.defs().resolve_job_def("publish_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert suite_name in failed and rule_name in failed[suite_name].metadata["failed_expectations"].value
    assert not [m for m in result.get_asset_materialization_events() if m.asset_key.path == ["bi", "lending_bi"]]
    assert digest(published_file(folder / "bi")) == before


def test_publish_job_on_good_marts_replaces_the_file(book, tmp_path):
    folder = copy_of(book, tmp_path)
    with warehouse_at(folder):
        result = definitions.defs().resolve_job_def("publish_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with duckdb.connect(str(published_file(folder / "bi")), read_only=True) as con:
        published = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    assert {"fct_overdue_matrix", "fct_expected_loss", "fct_collection_kpis_daily", "publication"} <= published


def test_a_ledger_row_for_an_unknown_loan_stops_the_day_before_aging_and_publishing(tmp_path):
    """Through the whole pipeline: the raw check fails, the day is not aged, BI keeps its file."""
    due = ["2024-02-10", "2024-03-10"]
    good = [*loan("L1", "2024-01-10", due), pay("P1", "L1", "2024-02-10", 90, 10)]
    with warehouse_at(tmp_path):
        write_book(tmp_path / "landing", dt.date(2024, 1, 1), dt.date(2024, 2, 29), good)
        run_pipeline(dt.date(2024, 1, 1), dt.date(2024, 2, 28))
        before = digest(published_file(tmp_path / "bi"))
        write_book(tmp_path / "landing", dt.date(2024, 2, 29), dt.date(2024, 2, 29),
                   [*loan("L1", "2024-01-10", due), pay("P9", "NO-SUCH-LOAN", "2024-02-29", 90, 10)])
        with pytest.raises(Exception, match="raw_repayments"):
            run_pipeline(dt.date(2024, 2, 29), dt.date(2024, 2, 29))
    assert query(tmp_path, "select max(as_of_date) from marts.fct_loan_aging_daily") == [(dt.date(2024, 2, 28),)]
    assert digest(published_file(tmp_path / "bi")) == before


SLOW_PUBLISH = """
import sys, time
from dagster_project.lib.publish import publish
def slow(message):
    print(message, flush=True)
    time.sleep(float(sys.argv[3]))
publish(sys.argv[1], sys.argv[2], 31, progress=slow)
print("done", flush=True)
"""


def start_slow_publish(folder, pause: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SLOW_PUBLISH, str(folder / "warehouse.duckdb"),
                             str(folder / "bi"), str(pause)], stdout=subprocess.PIPE, text=True)


def test_a_publish_killed_half_way_leaves_the_last_good_file(book, tmp_path):
    folder = copy_of(book, tmp_path)
    before = digest(published_file(folder / "bi"))
    link_before = (folder / "bi" / PARQUET_LINK).readlink()
    publishing = start_slow_publish(folder, pause=30)
    assert publishing.stdout.readline().startswith("published ")  # one mart written, the rest to come
    publishing.kill()
    publishing.wait()
    assert list((folder / "bi").glob(".*.tmp"))  # what it left behind
    assert digest(published_file(folder / "bi")) == before
    assert (folder / "bi" / PARQUET_LINK).readlink() == link_before
    with duckdb.connect(str(published_file(folder / "bi")), read_only=True) as con:
        assert con.execute("select count(*) from fct_overdue_matrix").fetchone()[0] > 0
    # the next publish cleans up and swaps in a new file
    finished = start_slow_publish(folder, pause=0)
    assert finished.communicate(timeout=300)[0].endswith("done\n")
    assert not list((folder / "bi").glob(".*.tmp")) and digest(published_file(folder / "bi")) != before


def test_a_reader_keeps_working_while_a_publish_runs(book, tmp_path):
    folder = copy_of(book, tmp_path)
    path = published_file(folder / "bi")
    held = duckdb.connect(str(path), read_only=True)  # a BI session opened before the publish
    published_at = held.execute("select published_at from publication").fetchone()
    errors, reads = [], []

    def read_repeatedly(stop: threading.Event):
        while not stop.is_set():
            try:
                with duckdb.connect(str(path), read_only=True) as con:
                    reads.append(con.execute("select count(*) from fct_overdue_matrix").fetchone()[0])
            except Exception as exc:  # the test fails on any
                errors.append(exc)
            time.sleep(0.01)

    stop = threading.Event()
    reader = threading.Thread(target=read_repeatedly, args=(stop,))
    reader.start()
    publishing = start_slow_publish(folder, pause=0.1)
    assert publishing.communicate(timeout=300)[0].endswith("done\n")
    time.sleep(0.2)
    stop.set()
    reader.join()
    assert not errors and len(reads) > 20 and len(set(reads)) == 1
    assert held.execute("select published_at from publication").fetchone() == published_at  # its snapshot
    assert held.execute("select count(*) from fct_overdue_matrix").fetchone()[0] == reads[0]
    held.close()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select published_at from publication").fetchone() != published_at


def test_bi_file_is_read_only_and_carries_no_personal_data(book):
    path = published_file(book / "bi")
    assert path.stat().st_mode & 0o222 == 0  # no write permission for anyone (root writes regardless)
    with duckdb.connect(str(path), read_only=True) as con:
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
    assert columns and not columns & set(quality.PERSONAL_COLUMNS)
    parquet_columns = set(query(book, f"select distinct name from parquet_schema('{book}/bi/parquet/*.parquet')"))
    assert parquet_columns and not {c for (c,) in parquet_columns} & set(quality.PERSONAL_COLUMNS)
