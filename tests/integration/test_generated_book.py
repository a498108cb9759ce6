"""A generated book through Dagster, checked against an independent Python aging and the generator's truth."""

import csv
import datetime as dt
import json
import os
import shutil
import subprocess

import duckdb
import pytest

from dagster_project.lib.settings import DBT_DIR, DBT_EXECUTABLE
from dagster_project.pipeline import run_pipeline
from demo_book.generator import BookConfig, generate_book
from tests.conftest import month_ends_against_the_truth, query, warehouse_at
from tests.reference_aging import age_book

CONFIG = BookConfig(n_loans=400, months=8, start="2025-01-01", seed=11, write_off_dpd=30)
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 8, 31)
SNAPSHOT_COLUMNS = ("status, days_past_due, bucket, outstanding_principal, overdue_principal, overdue_interest, "
                    "cumulative_recovered, closed_on")


def read_ledger(landing, ledger, columns):
    with duckdb.connect() as con:
        rel = con.sql(f"select {columns} from read_parquet('{landing}/*/{ledger}.parquet')")
        names = rel.columns
        return [dict(zip(names, row, strict=False)) for row in rel.fetchall()]


def snapshot(folder):
    return query(folder, "select * from marts.fct_loan_aging_daily order by loan_id, as_of_date")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Aged in three runs: a backfill to 29 August, then 30 and 31 August one day each (carrying state forward)."""
    folder = tmp_path_factory.mktemp("generated")
    with warehouse_at(folder):
        generate_book(CONFIG, folder / "landing")
        run_pipeline(FIRST, LAST - dt.timedelta(days=2), marts=False)
        run_pipeline(LAST - dt.timedelta(days=1), LAST - dt.timedelta(days=1), marts=False)
        run_pipeline(LAST, LAST)
        yield folder


def test_snapshot_matches_an_independent_computation_row_by_row(book):
    landing = book / "landing"
    money = "cast({} as decimal(18,2)) as {}"
    loans = read_ledger(landing, "loans", f"loan_id, origination_date, {money.format('principal_amount', 'principal_amount')}")
    schedules = read_ledger(landing, "repayment_schedule", "loan_id, installment_number, due_date, "
                            + ", ".join(money.format(c, c) for c in ("principal_due", "interest_due")))
    repayments = read_ledger(landing, "repayments", "loan_id, value_date, payment_type, "
                             + ", ".join(money.format(c, c) for c in ("amount", "principal_paid", "interest_paid")))
    write_offs = read_ledger(landing, "write_offs", "loan_id, write_off_date")
    with open(DBT_DIR / "seeds" / "delinquency_buckets.csv") as f:
        buckets = [(r["bucket"], int(r["min_days_past_due"]), int(r["max_days_past_due"]) if r["max_days_past_due"]
                    else None) for r in csv.DictReader(f)]
    expected = age_book(loans, schedules, repayments, write_offs, FIRST, LAST, buckets)
    actual = {
        (row[0], row[1]): dict(zip(SNAPSHOT_COLUMNS.split(", "), row[2:], strict=False))
        for row in query(book, f"select loan_id, as_of_date, {SNAPSHOT_COLUMNS} from marts.fct_loan_aging_daily")
    }
    assert len(actual) > 20_000
    assert actual.keys() == expected.keys()
    mismatches = [(key, actual[key], expected[key]) for key in expected if actual[key] != expected[key]]
    assert mismatches == []
    # the book is not trivial: it has every state the snapshot can hold
    states = {row["bucket"] or row["status"] for row in actual.values()}
    assert {"M0", "M1", "M2", "M3", "paid_off", "written_off"} <= states, states


def test_month_ends_match_the_generator_truth(book):
    assert month_ends_against_the_truth(book) == []
    assert query(book, "select count(distinct month_end) from marts.fct_loan_aging_monthly") == [(8,)]


def test_rerunning_a_day_leaves_the_same_rows(book):
    with warehouse_at(book):
        before = snapshot(book), query(book, "select * from raw.repayments order by payment_id")
        run_pipeline(LAST, LAST, marts=False)
        run_pipeline(LAST - dt.timedelta(days=1), LAST, marts=False)
        after = snapshot(book), query(book, "select * from raw.repayments order by payment_id")
    assert before == after


def test_a_malformed_payment_holds_its_loan_and_blocks_the_day_and_a_malformed_file_changes_nothing(book):
    bad_day = dt.date(2025, 8, 15)
    day_folder = book / "landing" / str(bad_day)
    with warehouse_at(book):
        before = snapshot(book), query(book, "select * from raw.repayments order by payment_id")
        shutil.copy(day_folder / "repayments.parquet", book / "repayments.parquet.bak")
        with duckdb.connect() as con:
            con.execute(f"copy (select * replace (case when row_number() over () = 3 then 'n/a' "
                        f"else cast(amount as varchar) end as amount) from read_parquet('{day_folder}/repayments.parquet')) "
                        f"to '{day_folder}/repayments.csv' (header)")
        (day_folder / "repayments.parquet").unlink()
        try:
            # the row goes to quarantine, its loan's other rows of the day with it, and the day is blocked
            with pytest.raises(Exception, match="no_landing_day_failed"):
                run_pipeline(bad_day, bad_day, marts=False)
            quarantined = query(book, "select source_row, column_name, reason from raw.quarantine "
                                      "where reason not like 'held back%'")
            held = query(book, "select count(*) from raw.quarantine where reason like 'held back%' "
                                  "and ledger = 'repayments'")[0][0]
            loaded = query(book, "select count(*) from raw.repayments where _landing_date = ?", [bad_day])[0][0]
            (day_folder / "repayments.csv").write_text("payment_id,loan_id\nP1,L1\n")  # columns missing
            with pytest.raises(Exception, match="repayments.csv, column amount: column is missing"):
                run_pipeline(bad_day, bad_day, marts=False)
            unchanged = query(book, "select count(*) from raw.repayments where _landing_date = ?", [bad_day])[0][0]
        finally:
            (day_folder / "repayments.csv").unlink()
            shutil.move(book / "repayments.parquet.bak", day_folder / "repayments.parquet")
        run_pipeline(bad_day, bad_day, marts=False)  # the corrected day
        after = snapshot(book), query(book, "select * from raw.repayments order by payment_id")
    assert quarantined == [(3, "amount", "value 'n/a' is not a valid DECIMAL(18,2)")]
    day_rows = sum(1 for row in before[1] if row[-3] == bad_day)
    assert loaded == unchanged == day_rows - 1 - held
    assert query(book, "select count(*) from raw.quarantine") == [(0,)]
    assert before == after


def test_dbt_runs_on_its_own_and_prunes_old_daily_rows_but_not_month_ends(book, tmp_path):
    """An analytics engineer's `dbt build` in dbt/, with the retention var set; runs last in this module."""
    month_ends_before = query(book, "select * from marts.fct_loan_aging_monthly order by loan_id, month_end")
    dbt_vars = json.dumps({"min_date": str(LAST), "max_date": str(LAST + dt.timedelta(days=1)),
                           "daily_retention_days": 30})
    subprocess.run([str(DBT_EXECUTABLE), "build", "--vars", dbt_vars, "--profiles-dir", ".",
                    "--target-path", str(tmp_path / "target")],
                   cwd=DBT_DIR, env={**os.environ, "LENDING_WAREHOUSE": str(book / "warehouse.duckdb")},
                   check=True, capture_output=True)
    assert query(book, "select min(as_of_date), max(as_of_date) from marts.fct_loan_aging_daily") == [
        (LAST - dt.timedelta(days=30), LAST)]
    assert query(book, "select * from marts.fct_loan_aging_monthly order by loan_id, month_end") == month_ends_before
