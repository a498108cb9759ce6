import datetime as dt
import os

import pytest

from dagster_project.lib.settings import dbt_vars
from dagster_project.pipeline import run_pipeline
from demo_book.generator import BookConfig, generate_book
from tests.conftest import warehouse_at

BOOK = BookConfig(n_loans=20_000, months=12, start="2025-01-01", seed=5, write_off_dpd=90, origination_months=1)


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """A generated book of 20,000 loans over 2025 through the whole pipeline, shared by the risk and
    collections tests (its truth in <book>/landing/_truth). The files that read it are marked
    xdist_group("book"): one worker runs them all, and builds the book once."""
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers' folders share a parent, one per test run
        try:
            (tmp_path_factory.getbasetemp().parent / "book.built").touch(exist_ok=False)
        except FileExistsError:
            pytest.fail("the shared book is being built by a second worker: the xdist_group is not honoured "
                        "(run with --dist loadgroup; pytest 9.2 breaks it, see pyproject.toml)")
    folder = tmp_path_factory.mktemp("book")
    with warehouse_at(folder, seeded=False), pytest.MonkeyPatch.context() as mp:
        generate_book(BOOK, folder / "landing")
        # the year is aged in three dbt runs of at most 125 days (20,000 loans), as a large book's backfill is
        mp.setitem(dbt_vars(), "aging_max_loan_days_per_run", BOOK.n_loans * 125)
        # as `lending run` runs it: each run's log in <book>/logs
        run_pipeline(dt.date(2025, 1, 1), dt.date(2025, 12, 31), progress=lambda line: None)
    return folder
