"""A day that does not arrive stops the aging of the days after it; when it arrives, its run ages it
and every later landed day, and the result equals a book that never missed a day."""

import pytest

from dagster_project.pipeline import run_pipeline
from tests.conftest import query, warehouse_at
from tests.landing import D, loan, pay, write_book

DUE = ["2024-02-10", "2024-03-10"]
BOOK = [*loan("L1", "2024-01-10", DUE), pay("P1", "L1", "2024-02-12", 90, 10)]  # paid on the missing day


def test_a_missing_day_blocks_later_days_until_it_arrives(tmp_path):
    complete = tmp_path / "complete"
    with warehouse_at(complete):
        write_book(complete / "landing", D("2024-01-01"), D("2024-02-20"), BOOK)
        run_pipeline(D("2024-01-01"), D("2024-02-20"), marts=False)
    gappy = tmp_path / "gappy"
    with warehouse_at(gappy):
        write_book(gappy / "landing", D("2024-01-01"), D("2024-02-20"), BOOK)
        missing = gappy / "landing" / "2024-02-12"
        missing.rename(gappy / "late-2024-02-12")
        run_pipeline(D("2024-01-01"), D("2024-02-11"), marts=False)
        with pytest.raises(Exception, match="no_landing_day_missing"):
            run_pipeline(D("2024-02-13"), D("2024-02-20"), marts=False)
        assert query(gappy, "select max(as_of_date) from marts.fct_loan_aging_daily") == [(D("2024-02-11"),)]
        (gappy / "late-2024-02-12").rename(missing)
        run_pipeline(D("2024-02-12"), D("2024-02-12"), marts=False)
    select = "select * exclude (closed_on) from marts.fct_loan_aging_daily order by all"
    assert query(gappy, select) == query(complete, select)
    assert query(gappy, "select max(as_of_date) from marts.fct_loan_aging_daily") == [(D("2024-02-20"),)]
