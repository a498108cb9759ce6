"""The landing-day gate: which landed days' rows may reach the aging.

Each landing day has a row per gate in raw.landing_day_gate: "contract" (decided by the load: a
quarantined row left a loan's state unknown) and "expectations" (the raw Great Expectations
suites). A day that failed either and is not released is blocked: its rows never reach dbt (the
staging models leave them out) and no later day is aged until it is delivered again (both gates
decide anew) or released on purpose (`lending release-day`: its rows are aged as loaded).
"""

from __future__ import annotations

import datetime as dt

import duckdb

BLOCKED = """
select landing_date, string_agg(gate || ': ' || detail, '; ' order by gate) as why
from raw.landing_day_gate
where status = 'failed'
  and landing_date not in (select landing_date from raw.landing_day_gate where gate = 'release')
  and landing_date <= $until
group by landing_date
order by landing_date
"""


def _has_gate(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = 'raw' "
                            "and table_name = 'landing_day_gate'").fetchone()[0])


def blocked_days(con: duckdb.DuckDBPyConnection, until: dt.date) -> list[tuple[dt.date, str]]:
    """(day, why) for every failed, unreleased landing day up to `until`."""
    return con.execute(BLOCKED, {"until": until}).fetchall() if _has_gate(con) else []


def released_days(con: duckdb.DuckDBPyConnection) -> set[dt.date]:
    if not _has_gate(con):
        return set()
    return {r[0] for r in con.execute("select landing_date from raw.landing_day_gate where gate = 'release'").fetchall()}


def record(con: duckdb.DuckDBPyConnection, gate: str, days: list[dt.date], passed: bool, detail: str) -> None:
    """The gate's decision on these days, replacing its earlier one."""
    con.execute("delete from raw.landing_day_gate where gate = ? and landing_date in (select unnest(?))", [gate, days])
    con.executemany("insert into raw.landing_day_gate values (?, ?, ?, ?, current_timestamp)",
                    [(day, gate, "passed" if passed else "failed", detail) for day in days])


def release(con: duckdb.DuckDBPyConnection, day: dt.date, reason: str) -> None:
    """Age a failed day as it was loaded: an operator's decision, kept when the day is loaded again."""
    if not any(d == day for d, _ in blocked_days(con, day)):
        raise ValueError(f"{day} is not a blocked day: nothing to release")
    record(con, "release", [day], True, reason)
