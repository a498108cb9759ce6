"""Days past due and bucket on hand-built ledgers, each loan one hard case, through the whole pipeline.

Every loan has installments of 90 principal + 10 interest. Expected values are worked out by hand
from the domain definitions (DPD counts from the due date of the oldest installment not fully paid).
"""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project import definitions, event_log
from dagster_project.defs.transform.assets import environment
from dagster_project.pipeline import dagster_home_at, run_pipeline
from tests.conftest import DBT_TARGET, query, warehouse_at
from tests.landing import loan, pay, write_book

D = dt.date.fromisoformat
FIRST, LAST = D("2024-01-01"), D("2024-04-30")


MONTHLY = ["2024-02-10", "2024-03-10", "2024-04-10"]
BOOK = [
    # partial payment on the due date: 40 of the first installment stays unpaid
    *loan("PARTIAL", "2024-01-10", MONTHLY), pay("A1", "PARTIAL", "2024-02-10", 50, 10),
    # paid in full on the due date
    *loan("ONTIME", "2024-01-10", MONTHLY), pay("B1", "ONTIME", "2024-02-10", 90, 10),
    # early: two installments paid before they fall due, then nothing
    *loan("EARLY", "2024-01-10", MONTHLY), pay("C1", "EARLY", "2024-02-05", 90, 10),
    pay("C2", "EARLY", "2024-02-20", 90, 10),
    # prepayment in full after the first installment
    *loan("PREPAID", "2024-01-10", MONTHLY), pay("D1", "PREPAID", "2024-02-10", 90, 10),
    pay("D2", "PREPAID", "2024-02-20", 180, 0),
    # a payment reversed five days later, paid again three days after that
    *loan("REVERSED", "2024-01-10", MONTHLY), pay("E1", "REVERSED", "2024-02-10", 90, 10),
    pay("E2", "REVERSED", "2024-02-15", 90, 10, kind="reversal", reverses="E1"),
    pay("E3", "REVERSED", "2024-02-18", 90, 10),
    # never pays, written off on 20 March, 50 recovered on 25 March
    *loan("WRITTEN", "2024-01-10", MONTHLY),
    ("write_offs", {"loan_id": "WRITTEN", "write_off_date": D("2024-03-20"), "written_off_amount": "270.00"}),
    pay("F1", "WRITTEN", "2024-03-25", 50, 0),
    # installments at month ends: 29 February (leap day), 31 March, 30 April; never pays
    *loan("MONTHEND", "2024-01-31", ["2024-02-29", "2024-03-31", "2024-04-30"]),
]

# (loan, as-of date) -> (status, days past due, bucket, overdue principal, overdue interest)
EXPECTED = {
    ("PARTIAL", "2024-02-10"): ("active", 0, "M0", 0, 0),  # due today is not overdue
    ("PARTIAL", "2024-02-11"): ("active", 1, "M1", 40, 0),
    ("PARTIAL", "2024-02-29"): ("active", 19, "M1", 40, 0),  # leap day
    ("PARTIAL", "2024-03-11"): ("active", 30, "M1", 130, 10),
    ("PARTIAL", "2024-03-12"): ("active", 31, "M2", 130, 10),
    ("ONTIME", "2024-02-10"): ("active", 0, "M0", 0, 0),
    ("ONTIME", "2024-02-11"): ("active", 0, "M0", 0, 0),
    ("ONTIME", "2024-03-11"): ("active", 1, "M1", 90, 10),
    ("EARLY", "2024-03-31"): ("active", 0, "M0", 0, 0),
    ("EARLY", "2024-04-10"): ("active", 0, "M0", 0, 0),
    ("EARLY", "2024-04-11"): ("active", 1, "M1", 90, 10),
    ("PREPAID", "2024-02-19"): ("active", 0, "M0", 0, 0),
    ("PREPAID", "2024-02-20"): ("paid_off", None, None, 0, 0),
    ("PREPAID", "2024-02-29"): ("paid_off", None, None, 0, 0),
    ("REVERSED", "2024-02-14"): ("active", 0, "M0", 0, 0),
    ("REVERSED", "2024-02-15"): ("active", 5, "M1", 90, 10),
    ("REVERSED", "2024-02-17"): ("active", 7, "M1", 90, 10),
    ("REVERSED", "2024-02-18"): ("active", 0, "M0", 0, 0),
    ("WRITTEN", "2024-03-19"): ("active", 38, "M2", 180, 20),  # two installments overdue
    ("WRITTEN", "2024-03-20"): ("written_off", None, None, 0, 0),
    ("WRITTEN", "2024-03-31"): ("written_off", None, None, 0, 0),
    ("MONTHEND", "2024-02-29"): ("active", 0, "M0", 0, 0),
    ("MONTHEND", "2024-03-01"): ("active", 1, "M1", 90, 10),
    ("MONTHEND", "2024-03-31"): ("active", 31, "M2", 90, 10),  # 31 March due today: not yet overdue
    ("MONTHEND", "2024-04-01"): ("active", 32, "M2", 180, 20),
    ("MONTHEND", "2024-04-30"): ("active", 61, "M3", 180, 20),
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The book through the pipeline as `lending run` runs it: on a Dagster instance of its own in SQLite
    files, configured as dagster_home's, with the progress lines the CLI prints."""
    folder = tmp_path_factory.mktemp("hard_cases")
    home = dagster_home_at(tmp_path_factory.mktemp("hard_cases_dagster_home"))
    lines = []
    with (warehouse_at(folder, seeded=False), environment({"DAGSTER_HOME": str(home)}),
          dg.DagsterInstance.from_config(str(home)) as instance):
        write_book(folder / "landing", FIRST, LAST, BOOK)
        run_pipeline(FIRST, LAST, instance=instance, progress=lines.append)
        yield folder, instance, lines


@pytest.fixture(scope="module")
def aged(recorded):
    return recorded[0]


def test_the_instance_records_the_runs_their_partitions_and_checks(recorded):
    folder, instance, lines = recorded
    assert isinstance(instance.event_log_storage, event_log.BatchedSqliteEventLogStorage)
    runs = {run.job_name: run for run in instance.get_runs()}
    assert {name: run.status for name, run in runs.items()} == {
        "config_job": dg.DagsterRunStatus.SUCCESS, "daily_ledgers_job": dg.DagsterRunStatus.SUCCESS,
        "marts_job": dg.DagsterRunStatus.SUCCESS}
    # the configuration is one materialization, not one per day
    buckets = instance.get_latest_materialization_event(dg.AssetKey(["config", "delinquency_buckets"]))
    assert buckets.asset_materialization.partition is None
    aging = dg.AssetKey(["marts", "fct_loan_aging_daily"])
    assert instance.get_materialized_partitions(aging) == {
        (FIRST + dt.timedelta(days=i)).isoformat() for i in range((LAST - FIRST).days + 1)}
    # the run of 121 days planned each asset once, not once a day
    planned = [record.dagster_event.event_specific_data for record in instance.all_logs(
        runs["daily_ledgers_job"].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)]
    assert [(p.partition, p.partitions_subset and len(p.partitions_subset)) for p in planned
            if p.asset_key == aging] == [(None, 121)]
    checks = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(aging, "aging_overdue_iff_days_past_due"), limit=100)
    assert checks[0].status.value == "SUCCEEDED" and "FAILED" not in {c.status.value for c in checks}
    # what the CLI prints: a line per step, a line per run with its log file
    loaded = sum(query(folder, f"select count(*) from raw.{table}")[0][0] for table in (
        "loans", "repayment_schedule", "repayments", "collection_actions", "borrower_events", "write_offs"))
    assert f"  load_landed_ledgers: success, {loaded:,} rows loaded, " in "\n".join(lines)
    logs = [Path(line.rsplit("log: ", 1)[1]) for line in lines if "log: " in line]
    assert len(logs) == 3 and all(any(step in log.read_text() for step in ("dbt_seeds", "dbt_daily_models", "dbt_marts"))
                                  for log in logs)


def last_day_again_on_a_copy(recorded, tmp_path, change: str) -> dg.ExecuteInProcessResult:
    """The daily job for the last day, on a copy of the recorded warehouse that the SQL change altered."""
    shutil.copytree(recorded[0], tmp_path, dirs_exist_ok=True)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute(change)
    job = definitions.defs().resolve_job_def("daily_ledgers_job")
    with warehouse_at(tmp_path), dg.instance_for_test() as instance:
        return job.execute_in_process(instance=instance, partition_key=LAST.isoformat(), raise_on_error=False)


def test_a_run_refuses_a_warehouse_whose_seeds_differ_from_the_files(recorded, tmp_path):
    """An edited seed file not yet loaded: the daily run stops before dbt, naming the seed."""
    result = last_day_again_on_a_copy(
        recorded, tmp_path, "insert into config.seed_versions values ('delinquency_buckets', 'edited', now() + interval 1 day)")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "dbt_daily_models" and "delinquency_buckets" in str(failure.event_specific_data.error)


def test_a_dbt_build_that_succeeded_leaves_no_target_folder_and_one_that_failed_keeps_its(recorded, tmp_path):
    """dagster-dbt gives each dbt invocation a folder of its own, 2.3 MB for a day (defs/transform/assets.py,
    dbt_build)."""
    _, instance, _ = recorded
    assert [path for run in instance.get_runs() for path in DBT_TARGET.glob(f"*-{run.run_id[:7]}-*")] == []
    # MONTHEND is in M3 on the last day
    result = last_day_again_on_a_copy(recorded, tmp_path, "delete from config.delinquency_buckets where bucket = 'M3'")
    assert next(e for e in result.all_events if e.is_step_failure).step_key == "dbt_daily_models"
    [kept] = DBT_TARGET.glob(f"dbt_daily_models-{result.run_id[:7]}-*")
    assert "fct_loan_aging_daily" in {path.stem for path in (kept / "compiled").rglob("*.sql")}
    assert "FAIL" in (kept / "dbt.log").read_text()


@pytest.mark.parametrize("loan_id, as_of", sorted(EXPECTED))
def test_days_past_due_and_bucket(aged, loan_id, as_of):
    rows = query(aged, "select status, days_past_due, bucket, overdue_principal, overdue_interest "
                       "from marts.fct_loan_aging_daily where loan_id = ? and as_of_date = ?", [loan_id, D(as_of)])
    status, dpd, bucket, overdue_principal, overdue_interest = EXPECTED[(loan_id, as_of)]
    assert rows == [(status, dpd, bucket, Decimal(overdue_principal), Decimal(overdue_interest))]


def test_closed_loans_leave_after_their_closing_month(aged):
    days = query(aged, "select loan_id, max(as_of_date), max(closed_on) from marts.fct_loan_aging_daily "
                       "where loan_id in ('PREPAID', 'WRITTEN') group by loan_id order by loan_id")
    assert days == [("PREPAID", D("2024-02-29"), D("2024-02-20")), ("WRITTEN", D("2024-03-31"), D("2024-03-20"))]


def test_payment_after_write_off_is_a_recovery(aged):
    rows = query(aged, "select as_of_date, status, outstanding_principal, written_off_amount, cumulative_recovered "
                       "from marts.fct_loan_aging_daily where loan_id = 'WRITTEN' and as_of_date in "
                       "('2024-03-24', '2024-03-25') order by as_of_date")
    assert rows == [
        (D("2024-03-24"), "written_off", 0, Decimal("270.00"), 0),
        (D("2024-03-25"), "written_off", 0, Decimal("270.00"), Decimal("50.00")),
    ]


def test_month_end_table_holds_the_last_day_of_each_month(aged):
    rows = query(aged, "select month_end, bucket, days_past_due from marts.fct_loan_aging_monthly "
                       "where loan_id = 'MONTHEND' order by month_end")
    assert rows == [(D("2024-01-31"), "M0", 0), (D("2024-02-29"), "M0", 0), (D("2024-03-31"), "M2", 31),
                    (D("2024-04-30"), "M3", 61)]
    prepaid = query(aged, "select month_end, status from marts.fct_loan_aging_monthly where loan_id = 'PREPAID' "
                          "order by month_end")
    assert prepaid == [(D("2024-01-31"), "active"), (D("2024-02-29"), "paid_off")]
