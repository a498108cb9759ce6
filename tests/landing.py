"""Hand-built landing folders for tests: rows as dicts, every ledger present every day."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from dagster_project.lib.contract import LEDGERS


def write_day(landing: Path, day: dt.date, rows: dict[str, list[dict]] | None = None) -> Path:
    """Write <landing>/<day>/<ledger>.csv for every ledger (header only where no rows)."""
    folder = Path(landing) / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for name, ledger in LEDGERS.items():
        with open(folder / f"{name}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=ledger.column_names)
            writer.writeheader()
            for row in (rows or {}).get(name, []):
                writer.writerow({k: _text(v) for k, v in row.items()})
    (folder / "_SUCCESS").touch()
    return folder


def write_book(landing: Path, first: dt.date, last: dt.date, rows: list[tuple[str, dict]]) -> None:
    """rows: (ledger, row); each lands on the day of its business date (schedules with their loan)."""
    by_day: dict[dt.date, dict[str, list[dict]]] = {}
    origination = {r["loan_id"]: r["origination_date"] for ledger, r in rows if ledger == "loans"}
    for ledger, row in rows:
        date_column = LEDGERS[ledger].date_column
        day = row[date_column] if date_column else origination[row["loan_id"]]
        by_day.setdefault(day, {}).setdefault(ledger, []).append(row)
    day = first
    while day <= last:
        write_day(landing, day, by_day.get(day))
        day += dt.timedelta(days=1)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
