"""A day that fails its gate blocks the aging of every later day, and its rows never reach the aging,
until it is delivered again or released; late data beyond the horizon and half-written days need a flag."""

import os
import subprocess
import sys

import pytest

from dagster_project.cli import held_back_line
from dagster_project.lib.restatement import RestatementBeyondHorizon
from dagster_project.pipeline import run_pipeline
from tests.conftest import query, warehouse_at
from tests.landing import D, loan, pay, write_book, write_day

DUE = ["2024-02-10", "2024-03-10", "2024-04-10"]
BOOK = [*loan("L1", "2024-01-10", DUE), *loan("L2", "2024-01-10", DUE), pay("P1", "L1", "2024-02-10", 90, 10)]
RESENT = pay("P1", "L1", "2024-02-11", 190, 10)  # the payment id of the 10th, again, with another amount
LATER = pay("P2", "L2", "2024-02-12", 90, 10)


def principal_paid(folder, loan_id, day):
    return query(folder, "select cumulative_principal_paid from marts.fct_loan_aging_daily "
                         "where loan_id = ? and as_of_date = ?", [loan_id, day])


def land_book_with_a_resent_payment(folder):
    """The book with the re-sent payment on 11 February, aged up to the 10th."""
    write_book(folder / "landing", D("2024-01-01"), D("2024-02-12"), BOOK + [LATER])
    write_day(folder / "landing", D("2024-02-11"), {"repayments": [RESENT[1]]})
    run_pipeline(D("2024-01-01"), D("2024-02-10"), marts=False)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The book as it should be: no re-sent payment."""
    folder = tmp_path_factory.mktemp("clean")
    with warehouse_at(folder):
        write_book(folder / "landing", D("2024-01-01"), D("2024-02-12"), BOOK + [LATER])
        run_pipeline(D("2024-01-01"), D("2024-02-12"), marts=False)
    return folder


def test_a_failed_day_blocks_later_days_until_delivered_again(tmp_path, clean):
    with warehouse_at(tmp_path):
        land_book_with_a_resent_payment(tmp_path)
        with pytest.raises(Exception, match="raw_repayments"):
            run_pipeline(D("2024-02-11"), D("2024-02-11"), marts=False)
        assert query(tmp_path, "select landing_date, gate, status from raw.landing_day_gate "
                               "where landing_date = '2024-02-11' order by gate") == [
            (D("2024-02-11"), "contract", "passed"), (D("2024-02-11"), "expectations", "failed")]
        with pytest.raises(Exception, match="no_landing_day_failed"):
            run_pipeline(D("2024-02-12"), D("2024-02-12"), marts=False)
        # nothing was aged past the good day, and the re-sent payment reached no model
        assert query(tmp_path, "select max(as_of_date) from marts.fct_loan_aging_daily") == [(D("2024-02-10"),)]
        assert "Aging blocked from 2024-02-11" in held_back_line(D("2024-02-12"), D("2024-02-12"))
        write_day(tmp_path / "landing", D("2024-02-11"))  # delivered again, without the re-sent row
        run_pipeline(D("2024-02-11"), D("2024-02-11"), marts=False)
    select = "select * exclude (closed_on) from marts.fct_loan_aging_daily order by all"
    assert query(tmp_path, select) == query(clean, select)
    assert principal_paid(tmp_path, "L1", D("2024-02-12")) == [(90,)]


def test_a_released_day_is_aged_as_loaded(tmp_path):
    with warehouse_at(tmp_path):
        land_book_with_a_resent_payment(tmp_path)
        with pytest.raises(Exception, match="raw_repayments"):
            run_pipeline(D("2024-02-11"), D("2024-02-12"), marts=False)
        subprocess.run([sys.executable, "-m", "dagster_project.cli", "release-day", "2024-02-11",
                        "--reason", "the core system confirmed the second booking"], check=True, env=os.environ)
        run_pipeline(D("2024-02-11"), D("2024-02-12"), marts=False)
        assert query(tmp_path, "select max(as_of_date) from marts.fct_loan_aging_daily") == [(D("2024-02-12"),)]
        assert principal_paid(tmp_path, "L1", D("2024-02-12")) == [(280,)]  # the operator's decision


def test_held_rows_block_the_day_and_the_last_line_says_so(tmp_path):
    with warehouse_at(tmp_path):
        write_book(tmp_path / "landing", D("2024-01-01"), D("2024-02-10"), BOOK[:-1])
        write_day(tmp_path / "landing", D("2024-02-10"), {"repayments": [BOOK[-1][1], BOOK[-1][1]]})
        with pytest.raises(Exception, match="no_landing_day_failed"):
            run_pipeline(D("2024-01-01"), D("2024-02-10"), marts=False)
        line = held_back_line(D("2024-01-01"), D("2024-02-10"))
    assert "Aging blocked from 2024-02-10" in line and "2 repayments" in line and "2 loans" not in line
    assert query(tmp_path, "select count(*) from information_schema.tables where table_schema = 'marts'") == [(0,)]


def test_a_day_without_its_marker_needs_a_flag(tmp_path):
    with warehouse_at(tmp_path):
        write_book(tmp_path / "landing", D("2024-01-01"), D("2024-01-12"), BOOK[:4])
        (tmp_path / "landing" / "2024-01-12" / "_SUCCESS").unlink()
        with pytest.raises(Exception, match="day not complete: no _SUCCESS marker"):
            run_pipeline(D("2024-01-01"), D("2024-01-12"), marts=False)
        assert not (tmp_path / "warehouse.duckdb").exists() or query(
            tmp_path, "select count(*) from information_schema.tables where table_name = 'loans'") == [(0,)]
        run_pipeline(D("2024-01-01"), D("2024-01-12"), marts=False, allow_incomplete=True)
    assert query(tmp_path, "select max(as_of_date) from marts.fct_loan_aging_daily") == [(D("2024-01-12"),)]


def test_late_data_beyond_the_horizon_needs_a_flag(tmp_path):
    with warehouse_at(tmp_path):
        write_book(tmp_path / "landing", D("2024-01-01"), D("2024-05-20"), BOOK)
        run_pipeline(D("2024-01-01"), D("2024-05-19"), marts=False)
        write_day(tmp_path / "landing", D("2024-05-20"), {"repayments": [pay("P9", "L2", "2024-02-10", 90, 10)[1]]})
        with pytest.raises(Exception) as refused:
            run_pipeline(D("2024-05-20"), D("2024-05-20"), marts=False)
        assert isinstance(refused.value, RestatementBeyondHorizon) or "restatement_horizon_days" in str(refused.value)
        run_pipeline(D("2024-05-20"), D("2024-05-20"), marts=False, allow_restatement=True)
    assert query(tmp_path, "select days_past_due from marts.fct_loan_aging_daily "
                           "where loan_id = 'L2' and as_of_date = '2024-03-09'") == [(0,)]
