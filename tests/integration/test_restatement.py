"""Late data: a back-dated payment and a back-dated reversal re-age every day they change, and the
result equals a warehouse that had the rows from the start."""

import shutil

import dagster as dg
import duckdb
import pytest

from dagster_project.lib.settings import dbt_vars
from dagster_project.pipeline import run_pipeline
from tests.conftest import daily_run_logs, query, warehouse_at
from tests.landing import D, loan, pay, write_book, write_day

DUE = ["2024-02-10", "2024-03-10", "2024-04-10"]
ON_TIME = [*loan("L1", "2024-01-10", DUE), pay("P1", "L1", "2024-02-10", 90, 10),
           *loan("L2", "2024-01-10", DUE), pay("Q1", "L2", "2024-02-10", 90, 10),
           pay("Q2", "L2", "2024-03-10", 90, 10)]
LATE_PAYMENT = pay("P2", "L1", "2024-03-12", 90, 10)  # lands on 21 March
LATE_REVERSAL = pay("Q3", "L2", "2024-03-15", 90, 10, kind="reversal", reverses="Q2")  # lands on 22 March


def land_late(folder, day, row):
    """A repayment that lands on `day`, after its value date."""
    write_day(folder / "landing", D(day), {"repayments": [row[1]]})


def snapshot(folder, loan_id):
    return dict(query(folder, "select as_of_date, days_past_due from marts.fct_loan_aging_daily "
                              "where loan_id = ? order by as_of_date", [loan_id]))


@pytest.fixture(scope="module")
def restated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("restated")
    instance = dg.DagsterInstance.ephemeral()
    with warehouse_at(folder):
        write_book(folder / "landing", D("2024-01-01"), D("2024-03-20"), ON_TIME)
        run_pipeline(D("2024-01-01"), D("2024-03-20"), instance=instance, marts=False)
        before = {"L1": snapshot(folder, "L1"), "L2": snapshot(folder, "L2")}
        land_late(folder, "2024-03-21", LATE_PAYMENT)
        run_pipeline(D("2024-03-21"), D("2024-03-21"), instance=instance, marts=False)
        land_late(folder, "2024-03-22", LATE_REVERSAL)
        run_pipeline(D("2024-03-22"), D("2024-03-22"), instance=instance, marts=False)
    return folder, instance, before


def test_the_late_rows_landed_after_their_value_dates(restated):
    folder, _, _ = restated
    rows = query(folder, "select payment_id, value_date, _landing_date from raw.repayments "
                         "where payment_id in ('P2', 'Q3') order by 1")
    assert rows == [("P2", D("2024-03-12"), D("2024-03-21")), ("Q3", D("2024-03-15"), D("2024-03-22"))]


def test_back_dated_payment_re_ages_the_days_from_its_value_date(restated):
    folder, _, before = restated
    after = snapshot(folder, "L1")
    # the March installment was 1..10 days late on 11..20 March; paid on 12 March after all
    assert [before["L1"][D(f"2024-03-{d}")] for d in (11, 12, 15, 20)] == [1, 2, 5, 10]
    assert [after[D(f"2024-03-{d}")] for d in (11, 12, 15, 20, 21)] == [1, 0, 0, 0, 0]
    assert all(after[day] == dpd for day, dpd in before["L1"].items() if day < D("2024-03-12"))


def test_back_dated_reversal_re_ages_the_days_from_its_value_date(restated):
    folder, _, before = restated
    after = snapshot(folder, "L2")
    assert all(before["L2"][D(f"2024-03-{d}")] == 0 for d in (15, 20))
    # the March payment is taken back on 15 March: the installment due 10 March is 5 days late then
    assert [after[D(f"2024-03-{d}")] for d in (14, 15, 20, 22)] == [0, 5, 10, 12]


def test_restated_days_equal_a_warehouse_that_had_the_rows_from_the_start_and_a_full_refresh(restated, tmp_path):
    folder, _, _ = restated
    fresh, refreshed = tmp_path / "fresh", tmp_path / "refreshed"
    with warehouse_at(fresh):
        write_book(fresh / "landing", D("2024-01-01"), D("2024-03-22"), ON_TIME + [LATE_PAYMENT, LATE_REVERSAL])
        run_pipeline(D("2024-01-01"), D("2024-03-22"), marts=False)
    shutil.copytree(folder, refreshed)
    with duckdb.connect(str(refreshed / "warehouse.duckdb")) as con:  # history only a full refresh rewrites
        con.execute("update marts.fct_loan_aging_daily set days_past_due = 999 where as_of_date < '2024-02-01'")
    with warehouse_at(refreshed), pytest.MonkeyPatch.context() as mp:
        # in parts of 30 days (two loans), as a large book's: only the first rebuilds the tables
        mp.setitem(dbt_vars(), "aging_max_loan_days_per_run", 2 * 30)
        run_pipeline(D("2024-03-22"), D("2024-03-22"), marts=False, full_refresh=True, progress=lambda line: None)
    log = daily_run_logs(refreshed)
    assert "Aging part 1 of 3: 2024-01-10 .. 2024-02-08" in log and "Aging part 3 of 3" in log
    columns = "loan_id, status, bucket, days_past_due, outstanding_principal, overdue_principal"
    for table, day in (("fct_loan_aging_daily", "as_of_date"), ("fct_loan_aging_monthly", "month_end"),
                       ("fct_overdue_matrix", None), ("fct_portfolio_at_risk", None)):
        select = (f"select {day}, {columns} from marts.{table} order by all" if day
                  else f"select * from marts.{table} order by all")
        assert query(folder, select) == query(fresh, select) == query(refreshed, select), table


def test_the_run_says_which_partitions_it_restated(restated):
    _, instance, _ = restated
    records = instance.fetch_materializations(dg.AssetKey(["marts", "fct_loan_aging_daily"]), limit=1000).records
    restated_days = sorted({r.partition_key for r in records if r.asset_materialization.metadata.get("restated")})
    assert restated_days[0] == "2024-03-12" and restated_days[-1] == "2024-03-21"
    assert "2024-03-11" not in restated_days
