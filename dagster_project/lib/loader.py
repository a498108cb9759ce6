"""Load landing folders into the warehouse's raw tables.

A day's files are read into staging tables, checked against the ledger
contract, and only then swapped into raw.<ledger> in one transaction that
first deletes whatever those days loaded before. A row that breaks a rule of
the contract goes to raw.quarantine instead, with file, row, column and
reason. A file that cannot be read as its ledger (missing, unreadable, a
column missing) stops the load and leaves the warehouse as it was. Loading a
day twice leaves the same rows.
"""

from __future__ import annotations

import csv
import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv

from .contract import LEDGERS, Ledger

FORMATS = ("parquet", "csv")
MAX_REPORTED = 20


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # 1-based data row (CSV: the line number is row + 1, after the header)
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class LedgerError(ValueError):
    """A landing file cannot be read as its ledger. Nothing was loaded."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_REPORTED])
        more = f"\n  ... and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        super().__init__(f"{len(problems)} problem(s) in the landing files, nothing loaded:\n{shown}{more}")


@dataclass(frozen=True)
class Loaded:
    rows: dict[str, int]  # rows loaded per ledger
    quarantined: dict[str, int]  # rows sent to raw.quarantine per ledger
    problems: list[Problem]  # the first problems of the quarantined rows

    def report(self) -> str:
        total = sum(self.quarantined.values())
        if not total:
            return "no row quarantined"
        shown = "\n".join(f"  - {p}" for p in self.problems)
        return f"{total} row(s) quarantined in raw.quarantine, the first:\n{shown}"


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """Everything inside lands together or not at all."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def ledger_file(landing: Path, day: dt.date, ledger: str) -> Path:
    """The one file of a ledger for a day, CSV or Parquet."""
    folder = Path(landing) / day.isoformat()
    found = [folder / f"{ledger}.{fmt}" for fmt in FORMATS if (folder / f"{ledger}.{fmt}").exists()]
    if not found:
        raise LedgerError([Problem(str(folder / f"{ledger}.parquet|csv"), None, None, "file is missing")])
    if len(found) > 1:
        raise LedgerError([Problem(str(folder), None, None, f"both {found[0].name} and {found[1].name} present")])
    return found[0]


LANDED_FILES_DDL = """create table if not exists raw.landed_files (
  landing_date date not null, ledger varchar not null, source_file varchar not null,
  row_count bigint not null, loaded_at timestamp not null
)"""

QUARANTINE_DDL = """create table if not exists raw.quarantine (
  ledger varchar not null, landing_date date not null, source_file varchar not null,
  source_row bigint not null, column_name varchar not null, reason varchar not null,
  row_values varchar not null, quarantined_at timestamp not null
)"""


def raw_table_ddl(ledger: Ledger) -> str:
    columns = ",\n  ".join(f"{c.name} {c.type}" for c in ledger.columns)
    return (
        f"create table if not exists raw.{ledger.name} (\n  {columns},\n"
        "  _landing_date date not null,\n  _source_file varchar not null,\n  _source_row bigint not null\n)"
    )


def _read_csv(path: Path, ledger: Ledger) -> pa.Table:
    """Every column as text, so that the checks (not the reader) say what is wrong and where."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f))
    except (StopIteration, UnicodeDecodeError, csv.Error, OSError) as exc:
        raise LedgerError([Problem(str(path), None, None, f"unreadable CSV, no header: {exc!r}")]) from None
    _check_columns(path, header, ledger)
    try:
        table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=True, null_values=[""],
            include_columns=ledger.column_names))
    except (pa.ArrowInvalid, OSError) as exc:
        raise LedgerError([Problem(str(path), None, None, f"unreadable CSV: {exc}")]) from None
    return table.append_column("_source_row", pa.array(range(1, table.num_rows + 1), pa.int64()))


def _check_columns(path: Path, present: list[str], ledger: Ledger) -> None:
    missing = [c for c in ledger.column_names if c not in present]
    if missing:
        raise LedgerError([Problem(str(path), None, c, "column is missing") for c in missing])


def _stage(con: duckdb.DuckDBPyConnection, ledger: Ledger, files: list[Path]) -> str:
    """A temp table with the files' columns as read, plus where each row came from."""
    table = f"stage_{ledger.name}"
    cols = ", ".join(ledger.column_names)
    selects = []
    parquet = [str(p) for p in files if p.suffix == ".parquet"]
    if parquet:
        try:
            schemas = con.execute(
                "select file_name, list(name) from parquet_schema(?) group by file_name", [parquet]).fetchall()
        except duckdb.Error as exc:
            raise LedgerError([Problem(", ".join(parquet[:3]), None, None, f"unreadable Parquet: {exc}")]) from None
        for file_name, names in schemas:
            _check_columns(Path(file_name), names, ledger)
        selects.append(
            f"select {cols}, filename as _source_file, file_row_number + 1 as _source_row "
            f"from read_parquet({parquet!r}, filename = true, file_row_number = true)")
    csv_tables = []
    for path in (p for p in files if p.suffix == ".csv"):
        csv_table = _read_csv(path, ledger)
        csv_tables.append(csv_table.append_column("_source_file", pa.array([str(path)] * csv_table.num_rows, pa.string())))
    if csv_tables:
        con.register("csv_rows", pa.concat_tables(csv_tables))
        selects.append(f"select {cols}, _source_file, _source_row from csv_rows")
    union = " union all by name ".join(selects)
    con.execute(
        f"create or replace temp table {table} as select *, "
        rf"cast(regexp_extract(_source_file, '(\d{{4}}-\d{{2}}-\d{{2}})[/\\][^/\\]+$', 1) as date) "
        f"as _landing_date from ({union})")
    if csv_tables:
        con.unregister("csv_rows")
    return table


def _checks(ledger: Ledger) -> list[tuple[str, str, str]]:
    """(column, SQL condition that marks a bad row, message) for every row rule of the contract."""
    checks = []
    for c in ledger.columns:
        typed = f"try_cast({c.name} as {c.type})"
        checks.append((c.name, f"{c.name} is not null and {typed} is null", f"is not a valid {c.type}"))
        if not c.nullable:
            checks.append((c.name, f"{c.name} is null", "is empty but required"))
        if c.allowed:
            allowed = ", ".join(f"'{v}'" for v in c.allowed)
            checks.append((c.name, f"cast({c.name} as varchar) not in ({allowed})",
                           f"is not one of {', '.join(c.allowed)}"))
        if c.minimum is not None:
            checks.append((c.name, f"{typed} < {c.minimum}", f"is below the minimum {c.minimum}"))
    if ledger.date_column:
        checks.append((ledger.date_column, f"try_cast({ledger.date_column} as date) > _landing_date",
                       "lies after the landing day"))
    return checks


def _reject(con: duckdb.DuckDBPyConnection, ledger: Ledger, table: str) -> str:
    """A temp table with one row per (staged row, broken rule): source file and row, column, reason."""
    key = ", ".join(ledger.key)
    rules = _checks(ledger) + [(key, "duplicated", f"duplicate key ({key}) on the same day")]
    selects = []
    for column, condition, message in rules:
        value = column.split(",")[0]
        reason = f"case when {value} is null then '{message}' else concat('value ''', {value}, ''' ', '{message}') end"
        selects.append(f"select _source_file, _source_row, '{column}' as column_name, {reason} as reason "
                       f"from keyed where {condition}")
    rejects = f"reject_{ledger.name}"
    con.execute(
        f"create or replace temp table {rejects} as "
        f"with keyed as (select *, count(*) over (partition by _landing_date, {key}) > 1 as duplicated from {table}) "
        + " union all ".join(selects))
    return rejects


def _first_problems(con, rejects: dict[str, str]) -> list[Problem]:
    union = " union all ".join(f"select * from {table}" for table in rejects.values())
    first = con.execute(f"select * from ({union}) order by _source_file, _source_row limit {MAX_REPORTED}").fetchall()
    return [Problem(file, row, column, reason) for file, row, column, reason in first]


def load_days(con: duckdb.DuckDBPyConnection, landing: Path, days: list[dt.date]) -> Loaded:
    """Replace raw.<ledger> (and raw.quarantine) rows of these landing days with the days' files."""
    files = {name: [ledger_file(landing, day, name) for day in days] for name in LEDGERS}
    staged, rejects = {}, {}
    for name, ledger in LEDGERS.items():
        staged[name] = _stage(con, ledger, files[name])
        rejects[name] = _reject(con, ledger, staged[name])
    con.execute("create schema if not exists raw")
    try:
        with transaction(con):
            rows, quarantined = _replace_days(con, files, staged, rejects, days)
        return Loaded(rows, quarantined, _first_problems(con, rejects))
    finally:
        for table in [*staged.values(), *rejects.values()]:
            con.execute(f"drop table if exists {table}")


def _replace_days(con, files, staged, rejects, days) -> tuple[dict[str, int], dict[str, int]]:
    """Inside the load's transaction: each ledger's good rows of these days, its quarantined rows and
    the landed_files log."""
    day_list = ", ".join(f"date '{d.isoformat()}'" for d in days)
    con.execute(LANDED_FILES_DDL)
    con.execute(QUARANTINE_DDL)
    con.execute(f"delete from raw.landed_files where landing_date in ({day_list})")
    con.execute(f"delete from raw.quarantine where landing_date in ({day_list})")
    rows, quarantined = {}, {}
    for name, ledger in LEDGERS.items():
        con.execute(raw_table_ddl(ledger))
        con.execute(f"delete from raw.{name} where _landing_date in ({day_list})")
        typed = ", ".join(f"cast({c.name} as {c.type}) as {c.name}" for c in ledger.columns)
        values = ", ".join(f"'{c.name}': {c.name}" for c in ledger.columns)
        good = (f"select * from {staged[name]} s where not exists (select 1 from {rejects[name]} r "
                f"where r._source_file = s._source_file and r._source_row = s._source_row)")
        rows[name] = con.execute(  # DuckDB answers an insert with the number of rows inserted
            f"insert into raw.{name} select {typed}, _landing_date, _source_file, _source_row from ({good})"
        ).fetchone()[0]
        con.execute(
            f"insert into raw.quarantine select '{name}', s._landing_date, r._source_file, r._source_row, "
            f"r.column_name, r.reason, to_json({{{values}}}), current_timestamp "
            f"from {rejects[name]} r join {staged[name]} s using (_source_file, _source_row)")
        quarantined[name] = con.execute(
            f"select count(*) from (select distinct _source_file, _source_row from {rejects[name]})").fetchone()[0]
        con.register("landed", pa.table({"landing_date": days, "source_file": [str(p) for p in files[name]]}))
        con.execute(
            f"insert into raw.landed_files select l.landing_date, '{name}', l.source_file, "
            f"count(s._source_row), current_timestamp from landed l "
            f"left join {staged[name]} s on s._source_file = l.source_file group by all")
        con.unregister("landed")
    return rows, quarantined
