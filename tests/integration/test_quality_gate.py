"""Write, audit, publish: every expectation is broken once and seen to fail; a failed audit, a killed
publish and a reader during a publish all leave BI with a good, complete file."""

import datetime as dt
import hashlib
import math
import shutil
import subprocess
import sys
import threading
import time

import dagster as dg
import duckdb
import pytest

from dagster_project import definitions
from dagster_project.lib import quality
from dagster_project.lib.contract import LEDGERS
from dagster_project.lib.publish import PARQUET_LINK, published_file
from dagster_project.pipeline import run_pipeline
from demo_book.generator import BookConfig, generate_book
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


DRIFT = ("update marts.fct_bad_debt_probability set markov_pi_within_horizon = 0.9 "
         "where portfolio = 'book' and asset_class = 'all' and bucket = 'M0'")  # was about 0.01 when published
MART_BREAKERS = {
    ("mart_bad_debt_probability", "methods_agree:is_true"):  # computed by the model (dbt unit test there)
        "update marts.fct_bad_debt_probability set methods_agree = false where asset_class = 'consumer' "
        "and bucket = 'M0'",
    ("mart_expected_loss", "loss_where_exposure:is_true"):
        "update marts.fct_expected_loss set expected_loss_12m = 0 where asset_class = 'mortgage'",
    ("mart_days_complete", "days_since_previous:between"):
        "delete from marts.fct_portfolio_at_risk where as_of_date = date '2025-03-15'",
    ("mart_drift", "stable:is_true"): DRIFT,
    ("mart_drift_warning", "stable:is_true"): DRIFT,
    ("marts_without_personal_data", "column_name:not_in_set"):
        "alter table marts.fct_loan_aging_monthly add column borrower_phone varchar",
}

RAW_RULES = [(s.name, r.name) for s in quality.RAW_SUITES for r in s.rules]


def validate(folder, suite_name, params):
    """A suite on its frame, as the checks run it (the mart suites beside the last publication)."""
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        quality.attach_publication(con, published_file(folder / "bi"))
        return quality.validate(con, quality.SUITES[suite_name], params)


def pi_at_psi(q: float, target: float) -> float:
    """The Pi above q whose population stability index against q (bad / not bad) is target."""
    def psi(p):
        return (p - q) * math.log(p / q) + (q - p) * math.log((1 - p) / (1 - q))
    low, high = q, 1 - 1e-9
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if psi(middle) < target else (low, middle)
    return low


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
def test_mart_expectation_fails_on_a_mart_that_breaks_it(book, tmp_path, suite_name, rule_name):
    folder = copy_of(book, tmp_path)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute(MART_BREAKERS[(suite_name, rule_name)])
    result = validate(folder, suite_name, {})
    assert rule_name in {f.rule for f in result.failures}, result.summary()


@pytest.mark.parametrize("breaker, stops", [(MART_BREAKERS[("mart_bad_debt_probability", "methods_agree:is_true")], True),
                                            (None, False)])
def test_a_broken_mart_stops_the_publication_and_bi_keeps_the_last_good_file(book, tmp_path, breaker, stops):
    """Through publish_job: a blocking mart check that fails stops the publication; a warning does not."""
    folder = copy_of(book, tmp_path)
    before = digest(published_file(folder / "bi"))
    where = "where portfolio = 'book' and asset_class = 'all' and bucket = 'M0'"
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        (published_pi,) = con.execute(f"select markov_pi_within_horizon from marts.fct_bad_debt_probability {where}"
                                      ).fetchone()
        # a drift between the seed's warning (0.1) and blocking (0.25) levels
        con.execute(f"update marts.fct_bad_debt_probability set markov_pi_within_horizon = ? {where}",
                    [pi_at_psi(published_pi, 0.17)])
        if breaker:
            con.execute(breaker)
    with warehouse_at(folder):
        result = definitions.defs().resolve_job_def("publish_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert "mart_drift_warning" in failed and "mart_drift" not in failed, failed
    published = [m for m in result.get_asset_materialization_events() if m.asset_key.path == ["bi", "lending_bi"]]
    if stops:
        assert not result.success and "mart_bad_debt_probability" in failed
        assert "methods_agree:is_true" in failed["mart_bad_debt_probability"].metadata["failed_expectations"].value
        assert not published and digest(published_file(folder / "bi")) == before
    else:
        assert result.success and published and digest(published_file(folder / "bi")) != before


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
        docs_before = quality.DATA_DOCS.stat().st_mtime_ns
        write_book(tmp_path / "landing", dt.date(2024, 2, 29), dt.date(2024, 2, 29),
                   [*loan("L1", "2024-01-10", due), pay("P9", "NO-SUCH-LOAN", "2024-02-29", 90, 10)])
        with pytest.raises(Exception, match="raw_repayments"):
            run_pipeline(dt.date(2024, 2, 29), dt.date(2024, 2, 29))
    assert query(tmp_path, "select max(as_of_date) from marts.fct_loan_aging_daily") == [(dt.date(2024, 2, 28),)]
    assert digest(published_file(tmp_path / "bi")) == before
    # a failed raw suite rebuilds the Data Docs at once (a passing day leaves that to the publication's audit)
    assert quality.DATA_DOCS.stat().st_mtime_ns > docs_before


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
