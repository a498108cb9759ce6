"""Which days a run must age: its partition window, widened for late and restated data.

A row that lands after the day it takes effect (a back-dated payment or reversal, a late
write-off, a loan or schedule delivered again or late) changes every aged day from its
business date on; a past day loaded again (or a day that arrived late) changes every day
after it. The aging is chained day to day, so the run re-ages from the earliest affected day
through the last landed day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from .gate import blocked_days
from .settings import dbt_vars


class RestatementBeyondHorizon(ValueError):
    """Late data reaches further back than the dbt var restatement_horizon_days allows without a flag."""

# (ledger, business date of a row, for rows landed in the window) that can lie before the window
LATE_ROWS = """
select min(effective) from (
    select value_date as effective from raw.repayments
    where _landing_date >= $start and _landing_date < $end
    union all
    select write_off_date from raw.write_offs where _landing_date >= $start and _landing_date < $end
    union all
    select origination_date from raw.loans where _landing_date >= $start and _landing_date < $end
    union all
    select loans.origination_date from raw.repayment_schedule as schedule
    join raw.loans as loans on loans.loan_id = schedule.loan_id
    where schedule._landing_date >= $start and schedule._landing_date < $end
)
"""


@dataclass(frozen=True)
class AgingWindow:
    start: dt.date  # first day to age
    end: dt.date  # day after the last
    partition_start: dt.date
    partition_end: dt.date

    @property
    def restated_days(self) -> list[dt.date]:
        """Days outside the partition window that the run ages again."""
        days = (self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days))
        return [d for d in days if not self.partition_start <= d < self.partition_end]


def aging_window(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
                 allow_restatement: bool = False) -> AgingWindow:
    """The days [start', end') to age for a run over the partitions [start, end): back to the earliest
    business date its rows change, on through the last landed day before any missing or failed one."""
    tables = {r[0] for r in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
    first = start
    if "raw.repayments" in tables:
        earliest = con.execute(LATE_ROWS, {"start": start, "end": end}).fetchone()[0]
        first = min(start, earliest) if earliest else start
    horizon = start - dt.timedelta(days=int(dbt_vars()["restatement_horizon_days"]))
    if first < horizon and not allow_restatement:
        raise RestatementBeyondHorizon(
            f"rows landed in {start} .. {end - dt.timedelta(days=1)} change the book from {first}, further back than "
            f"restatement_horizon_days ({horizon}); check them, then run again with --allow-restatement "
            "(tag lending/allow_restatement=true) to re-age every day since")
    last = end
    if "raw.landed_files" in tables:
        last_landed = con.execute("select max(landing_date) from raw.landed_files").fetchone()[0]
        if last_landed and last_landed >= end:
            stops = [d for d in missing_days(con, last_landed + dt.timedelta(days=1)) if d >= end]
            stops += [d for d, _ in blocked_days(con, last_landed) if d >= end]
            last = min(stops, default=last_landed + dt.timedelta(days=1))
    return AgingWindow(first, last, start, end)


def aging_parts(start: dt.date, end: dt.date, loans: int, max_loan_days: int) -> list[tuple[dt.date, dt.date]]:
    """[start, end) cut into consecutive windows of at most max_loan_days loan-days for a book of `loans`
    loans (a day at least), aged one after the other: each part carries its state from the day before it,
    as a daily run does. An empty window stays one part (dbt builds the models empty)."""
    length = max((end - start).days, 1)
    days = min(length, max(1, max_loan_days // max(loans, 1)))
    return [(start + dt.timedelta(days=i), min(start + dt.timedelta(days=i + days), end)) for i in range(0, length, days)]


def missing_days(con: duckdb.DuckDBPyConnection, until: dt.date) -> list[dt.date]:
    """Days from the first landed day up to `until` (excluded) whose ledgers never landed."""
    return [row[0] for row in con.execute(
        "select day::date from range((select min(landing_date) from raw.landed_files), $until, interval 1 day) "
        "as days(day) where day::date not in (select landing_date from raw.landed_files) order by 1",
        {"until": until}).fetchall()]
