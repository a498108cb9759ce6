"""A backfill of more loan-days than one dbt run ages (the var aging_max_loan_days_per_run) is aged in
consecutive parts, each carrying its state from the day before it, and ends as one run would: the shared
book (tests/integration/conftest.py) is aged in three parts."""

import pytest

from tests.conftest import daily_run_logs, month_ends_against_the_truth, query

pytestmark = pytest.mark.xdist_group("book")  # the shared book: tests/integration/conftest.py


def test_a_year_aged_in_three_parts_matches_the_generator_truth(book):
    log = daily_run_logs(book)
    assert "Aging part 1 of 3: 2025-01-01 .. 2025-05-05 (20,000 loans)" in log
    assert "Aging part 2 of 3: 2025-05-06 .. 2025-09-07 (20,000 loans)" in log
    assert "Aging part 3 of 3: 2025-09-08 .. 2025-12-31 (20,000 loans)" in log
    assert month_ends_against_the_truth(book) == []
    # every day of the year aged once, across the parts' seams
    days = query(book, "select count(distinct as_of_date), count(*), count(distinct (loan_id, as_of_date)) "
                       "from marts.fct_loan_aging_daily")
    assert days[0][0] == 365 and days[0][1] == days[0][2]
