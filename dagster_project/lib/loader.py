"""Load landing folders into the warehouse's raw tables.

A day's files are read into staging tables, checked against the ledger
contract, and only then swapped into raw.<ledger> in one transaction that
first deletes whatever those days loaded before. A row that breaks a rule of
the contract goes to raw.quarantine instead, with file, row, column and
reason. Where such a row leaves a loan's state unknown (a loan, an
installment, a payment, a write-off), the loan's other rows of that day are
held back with it, and the day is marked failed in raw.landing_day_gate when
the policy is to block (dbt var held_rows_policy). A file that cannot be read
as its ledger (missing, unreadable, a column missing), or a day without its
completion marker, stops the load and leaves the warehouse as it was. Loading
a day twice leaves the same rows. No message carries a personal value.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv

from .contract import LEDGERS, MONTH_END_TAPE, Ledger
from .mapping import Mapping, MappingError, read_mapping
from .raw_layer import write_ledger_days
from .settings import dbt_vars

FORMATS = ("parquet", "csv")
MAX_REPORTED = 20
COMPLETE_MARKER = "_SUCCESS"  # the core system writes it last: the day's files are complete
MAPPINGS_FOLDER = "_mappings"  # <landing>/_mappings/<ledger>.yaml: a ledger exported in its own layout
STATE_LEDGERS = [name for name, ledger in LEDGERS.items() if ledger.decides_loan_state]
PERSONAL = {c.name for ledger in LEDGERS.values() for c in ledger.columns if c.personal}


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


class WarehouseFull(OSError):
    """The disk under the warehouse is full. The load was rolled back: nothing changed."""


@dataclass(frozen=True)
class Loaded:
    rows: dict[str, int]  # rows loaded per ledger
    quarantined: dict[str, int]  # rows sent to raw.quarantine per ledger, the held ones included
    held: dict[str, int]  # of those, rows held back because another row of their loan and day broke a rule
    failed_days: list[dt.date]  # days whose aging the held rows block (policy "block")
    problems: list[Problem]  # the first problems of the quarantined rows

    def report(self) -> str:
        total = sum(self.quarantined.values())
        if not total:
            return "no row quarantined"
        shown = "\n".join(f"  - {p}" for p in self.problems)
        return f"{total} row(s) quarantined in raw.quarantine ({self.held_line()}), the first:\n{shown}"

    def held_line(self) -> str:
        """One line: how many rows of which ledger were held back, and what follows."""
        held = {name: n for name, n in self.held.items() if n}
        if not held:
            return "no loan's rows held back"
        counts = ", ".join(f"{n} {name}" for name, n in held.items())
        then = (f"aging blocked from {self.failed_days[0]} until the day is delivered again or released"
                if self.failed_days else "the day is aged without them")
        return f"rows held back with a quarantined row of the same loan and day: {counts}; {then}"


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """Everything inside lands together or not at all. A full disk is said as such."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException as exc:
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass  # DuckDB already rolled back (it does on a failed commit); the first error is the one to tell
        if "No space left on device" in str(exc) or "disk is full" in str(exc).lower():
            raise WarehouseFull(f"the disk under the warehouse is full ({exc.__class__.__name__}); nothing was "
                                "written, the warehouse is as it was before this load: free space and run again") \
                from exc
        raise


def check_complete(landing: Path, days: list[dt.date]) -> None:
    """Every day's folder holds the completion marker, else the day may be half written."""
    incomplete = [day for day in days if not (Path(landing) / day.isoformat() / COMPLETE_MARKER).exists()]
    if incomplete:
        raise LedgerError([Problem(str(Path(landing) / day.isoformat()), None, None,
                                   f"day not complete: no {COMPLETE_MARKER} marker (the core system writes it last); "
                                   "wait for it, or load it anyway with --allow-incomplete")
                           for day in incomplete])


def ledger_mapping(landing: Path, ledger: str) -> Mapping | None:
    """<landing>/_mappings/<ledger>.yaml, when the core system's export of that ledger has a layout
    of its own."""
    path = Path(landing) / MAPPINGS_FOLDER / f"{ledger}.yaml"
    if not path.exists():
        return None
    mapping = read_mapping(path, LEDGERS)
    if mapping.contract.name != ledger:
        raise MappingError(path, "contract", f"is {mapping.contract.name}, but the file maps the ledger {ledger}")
    return mapping


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

# One row per landing day and gate: the ledger contract ("contract", decided by the load) and the
# raw expectations ("expectations", decided by the check after it); "release" is an operator's
# decision to age a failed day as it is. Rows of a failed day that is not released never reach dbt.
GATE_DDL = """create table if not exists raw.landing_day_gate (
  landing_date date not null, gate varchar not null, status varchar not null, detail varchar not null,
  decided_at timestamp not null
)"""

QUARANTINE_DDL = """create table if not exists raw.quarantine (
  ledger varchar not null, landing_date date not null, source_file varchar not null,
  source_row bigint not null, column_name varchar not null, reason varchar not null,
  row_values varchar not null, quarantined_at timestamp not null
)"""


def create_tape_table(con: duckdb.DuckDBPyConnection) -> None:
    """raw.month_end_tape, empty until a tape is loaded: the month-end models read it with or without tapes."""
    columns = ",\n  ".join(f"{c.name} {c.type}{'' if c.nullable else ' not null'}" for c in MONTH_END_TAPE.columns)
    con.execute("create schema if not exists raw")
    con.execute(f"create table if not exists raw.month_end_tape (\n  {columns}\n)")
    con.execute("alter table raw.month_end_tape alter balance drop not null")  # required before the tape contract


def raw_table_ddl(ledger: Ledger) -> str:
    columns = ",\n  ".join(f"{c.name} {c.type}" for c in ledger.columns)
    return (
        f"create table if not exists raw.{ledger.name} (\n  {columns},\n"
        "  _landing_date date not null,\n  _source_file varchar not null,\n  _source_row bigint not null\n)"
    )


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table, empty where it is new."""
    create_tape_table(con)
    for ddl in (LANDED_FILES_DDL, QUARANTINE_DDL, GATE_DDL, *(raw_table_ddl(ledger) for ledger in LEDGERS.values())):
        con.execute(ddl)


def _csv_header(path: Path) -> list[str]:
    """The header of a CSV file: UTF-8, with or without the byte-order mark that Excel writes."""
    try:
        with open(path, "rb") as f:
            _undecodable_at(path, f.read())
        with open(path, newline="", encoding="utf-8-sig") as f:
            return next(csv.reader(f))
    except StopIteration:
        raise LedgerError([Problem(str(path), None, None, "empty file: no header row")]) from None
    except (csv.Error, OSError) as exc:
        raise LedgerError([Problem(str(path), 0, None, f"unreadable CSV header ({exc.__class__.__name__})")]) from None


def _read_csv(path: Path, header: list[str], columns: list[str]) -> pa.Table:
    """Every column as text, so that the checks (not the reader) say what is wrong and where. Quoted
    values may hold newlines."""
    try:
        table = pa_csv.read_csv(
            path, parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=True, null_values=[""],
                include_columns=columns))
    except (pa.ArrowInvalid, OSError) as exc:
        # Arrow's message quotes the row, personal data included: say where, not what
        row = re.search(r"[Rr]ow #?(\d+)", str(exc))
        where = f" near data row {row.group(1)}" if row else ""
        raise LedgerError([Problem(str(path), None, None,
                                   f"unreadable CSV{where}: a row has the wrong number of fields "
                                   "or an unclosed quote")]) from None
    return table.append_column("_source_row", pa.array(range(1, table.num_rows + 1), pa.int64()))


def _undecodable_at(path: Path, data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start)  # 0 is the header
        where = (None, "header") if line == 0 else (line, None)
        raise LedgerError([Problem(str(path), where[0], where[1] if where[1] else None,
                                   f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
                                   "save the file as UTF-8")]) from None


def _check_columns(path: Path, present: list[str], mapping: Mapping) -> None:
    """A file in the contract's own layout names its missing columns; a mapped one says which key of
    its mapping names a column the file does not have."""
    if mapping.is_identity:
        missing = [c for c in mapping.source_columns() if c not in present]
        if missing:
            raise LedgerError([Problem(str(path), None, c, "column is missing") for c in missing])
    mapping.check_source(path, present)


def _stage(con: duckdb.DuckDBPyConnection, ledger: Ledger, files: list[Path], mapping: Mapping | None = None) -> str:
    """A temp table with the files' rows in the contract's columns (through the source's mapping, if
    any), as read, plus where each row came from."""
    headers: dict[Path, list[str]] = {}
    parquet = [str(p) for p in files if p.suffix == ".parquet"]
    if parquet:
        try:
            schemas = con.execute(
                "select file_name, list(name) from parquet_schema(?) group by file_name", [parquet]).fetchall()
        except duckdb.Error as exc:
            raise LedgerError([Problem(", ".join(parquet[:3]), None, None, f"unreadable Parquet: {exc}")]) from None
        headers |= {Path(file_name): names for file_name, names in schemas}
    headers |= {path: _csv_header(path) for path in files if path.suffix == ".csv"}
    mapping = (mapping or Mapping.identity(ledger)).bind(sorted({c for names in headers.values() for c in names}))
    for path, names in headers.items():
        _check_columns(path, names, mapping)
    cols = ", ".join(f'"{c}"' for c in mapping.source_columns())
    selects = []
    if parquet:
        selects.append(
            f"select {cols}, filename as _source_file, file_row_number + 1 as _source_row "
            f"from read_parquet({parquet!r}, filename = true, file_row_number = true, union_by_name = true)")
    csv_tables = []
    for path in (p for p in files if p.suffix == ".csv"):
        csv_table = _read_csv(path, headers[path], mapping.source_columns())
        csv_tables.append(csv_table.append_column("_source_file", pa.array([str(path)] * csv_table.num_rows, pa.string())))
    if csv_tables:
        con.register("csv_rows", pa.concat_tables(csv_tables))
        selects.append(f"select {cols}, _source_file, _source_row from csv_rows")
    table = f"stage_{ledger.name}"
    union = " union all by name ".join(selects)
    con.execute(
        f"create or replace temp table {table} as select *, "
        rf"cast(nullif(regexp_extract(_source_file, '(\d{{4}}-\d{{2}}-\d{{2}})[/\\][^/\\]+$', 1), '') as date) "
        f"as _landing_date from ({mapping.select_sql(f'({union})')})")
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
    for rule in ledger.row_rules:
        breached = rule.breached
        for c in ledger.columns:
            breached = re.sub(rf"\b{c.name}\b", f"try_cast({c.name} as {c.type})", breached)
        checks.append((rule.column, breached, rule.message))
    if ledger.date_column:
        date = f"try_cast({ledger.date_column} as date)"
        checks.append((ledger.date_column, f"{date} > _landing_date", "lies after the landing day"))
        if ledger.name != "loans":
            checks.append((ledger.date_column, f"{date} < _origination_date", "lies before the loan's origination"))
    tolerance = float(dbt_vars()["schedule_principal_tolerance"])
    if ledger.name == "loans":
        checks.append(("principal_amount", f"abs(try_cast(principal_amount as decimal(18,2)) - _schedule_principal) "
                       f"> {tolerance}", "differs from the principal of its repayment schedule"))
    if ledger.name == "repayment_schedule":
        checks.append(("principal_due", f"abs(_loan_principal - _schedule_principal) > {tolerance}",
                       "adds up over the schedule to another principal than the loan's"))
    return checks


def _known_loans(con: duckdb.DuckDBPyConnection, staged: dict[str, str], days: list[dt.date]) -> None:
    """A temp table for the rules across ledgers: per loan its origination, principal and schedule
    principal, from the latest version landed (the staged days or those loaded before)."""
    # only the loans the staged rows name, and not the versions the load replaces
    con.execute("create or replace temp table staged_loan_ids as "
                + " union ".join(f"select loan_id from {table}" for table in staged.values()))
    kept = "where _landing_date not in ({}) and loan_id in (select loan_id from staged_loan_ids)".format(
        ", ".join(f"date '{d}'" for d in days))
    in_raw = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    loans = [f"select loan_id, _landing_date, try_cast(origination_date as date) as origination_date, "
             f"try_cast(principal_amount as decimal(18,2)) as principal_amount from {staged['loans']}"]
    schedules = [f"select loan_id, _landing_date, sum(try_cast(principal_due as decimal(18,2))) as schedule_principal "
                 f"from {staged['repayment_schedule']} group by all"]
    if "loans" in in_raw:
        loans.append(f"select loan_id, _landing_date, origination_date, principal_amount from raw.loans {kept}")
    if "repayment_schedule" in in_raw:
        schedules.append(f"select loan_id, _landing_date, sum(principal_due) from raw.repayment_schedule {kept} "
                         "group by all")
    latest = "qualify row_number() over (partition by loan_id order by _landing_date desc) = 1"
    con.execute(f"""create or replace temp table latest_loans as
        select l.loan_id, l.origination_date, l.principal_amount, s.schedule_principal
        from (select * from ({' union all '.join(loans)}) {latest}) as l
        left join (select * from ({' union all '.join(schedules)}) {latest}) as s using (loan_id)""")


def _reject(con: duckdb.DuckDBPyConnection, ledger: Ledger, staged: dict[str, str]) -> str:
    """A temp table with one row per (staged row, broken rule): source file and row, column, reason,
    and the row's loan and landing day. Personal values are not repeated in the reason."""
    key = ", ".join(ledger.key)
    rules = _checks(ledger) + [(key, "duplicated", f"duplicate key ({key}) on the same day")]
    # the principal of the loan or schedule landed the same day wins over the latest one loaded before
    same_day_schedule = (f"coalesce((select sum(try_cast(s.principal_due as decimal(18,2))) from "
                         f"{staged['repayment_schedule']} s where s.loan_id = t.loan_id and s._landing_date = "
                         f"t._landing_date), k.schedule_principal)")
    same_day_loan = (f"coalesce((select max(try_cast(s.principal_amount as decimal(18,2))) from {staged['loans']} s "
                     f"where s.loan_id = t.loan_id and s._landing_date = t._landing_date), k.principal_amount)")
    derived = {
        "loans": f"{same_day_schedule} as _schedule_principal, null as _loan_principal",
        "repayment_schedule": "sum(try_cast(t.principal_due as decimal(18,2))) over (partition by t._landing_date, "
                              f"t.loan_id) as _schedule_principal, {same_day_loan} as _loan_principal",
    }.get(ledger.name, "null as _schedule_principal, null as _loan_principal")
    partition = ", ".join(f"t.{k}" for k in ledger.key)
    rejects = f"reject_{ledger.name}"
    con.execute(
        f"create or replace temp table {rejects} as "
        f"with keyed as (select t.*, count(*) over (partition by t._landing_date, {partition}) > 1 as duplicated, "
        f"k.origination_date as _origination_date, {derived} "
        f"from {staged[ledger.name]} as t left join latest_loans as k on k.loan_id = t.loan_id) "
        + violations(rules, "keyed", "loan_id, _landing_date"))
    return rejects


def violations(rules: list[tuple[str, str, str]], rows: str, carried: str) -> str:
    """SQL: a row per (row of `rows`, rule it breaks): _source_file, _source_row, column_name, reason
    (the value and the rule's message, never a personal value), then the `carried` columns."""
    selects = []
    for column, condition, message in rules:
        value = column.split(",")[0]
        shown = "'(personal, not shown)'" if value in PERSONAL else f"cast({value} as varchar)"
        message = message.replace("'", "''")
        reason = f"case when {value} is null then '{message}' else concat('value ''', {shown}, ''' ', '{message}') end"
        selects.append(f"select _source_file, _source_row, '{column}' as column_name, {reason} as reason, "
                       f"{carried} from {rows} where {condition}")
    return " union all ".join(selects)


def _hold(con: duckdb.DuckDBPyConnection, staged: dict[str, str], rejects: dict[str, str]) -> None:
    """Every row of a loan and day on which one of the loan's state rows broke a rule joins it in the
    quarantine: a loan aged without its payment, installment or write-off would show a wrong state."""
    broken = " union ".join(f"select distinct _landing_date, loan_id from {rejects[name]} where loan_id is not null"
                            for name in STATE_LEDGERS)
    con.execute(f"create or replace temp table held_loans as {broken}")
    for name in STATE_LEDGERS:
        con.execute(
            f"insert into {rejects[name]} select s._source_file, s._source_row, 'loan_id', "
            f"concat('held back: another row of loan ', s.loan_id, ' on this day broke the contract'), "
            f"s.loan_id, s._landing_date from {staged[name]} s "
            f"join held_loans h on h._landing_date = s._landing_date and h.loan_id = s.loan_id "
            f"where not exists (select 1 from {rejects[name]} r "
            f"where r._source_file = s._source_file and r._source_row = s._source_row)")


def _first_problems(con, rejects: dict[str, str]) -> list[Problem]:
    union = " union all ".join(f"select _source_file, _source_row, column_name, reason from {table}"
                               for table in rejects.values())
    first = con.execute(f"select * from ({union}) order by reason like 'held back%', _source_file, _source_row "
                        f"limit {MAX_REPORTED}").fetchall()
    return [Problem(file, row, column, reason) for file, row, column, reason in first]


def load_days(con: duckdb.DuckDBPyConnection, landing: Path, days: list[dt.date],
              allow_incomplete: bool = False, raw_layer: Path | None = None) -> Loaded:
    """Replace raw.<ledger> (and raw.quarantine) rows of these landing days with the days' files; with
    raw_layer (on Spark), also the days' folders of the Parquet raw layer, in the same transaction, so that
    a day is in both or, when either write fails, loaded again by its next run."""
    if not allow_incomplete:
        check_complete(landing, days)
    files = {name: [ledger_file(landing, day, name) for day in days] for name in LEDGERS}
    staged = {name: _stage(con, ledger, files[name], ledger_mapping(landing, name)) for name, ledger in LEDGERS.items()}
    _known_loans(con, staged, days)
    rejects = {name: _reject(con, ledger, staged) for name, ledger in LEDGERS.items()}
    _hold(con, staged, rejects)
    con.execute("create schema if not exists raw")
    try:
        with transaction(con):
            rows, quarantined, held, failed_days = _replace_days(con, files, staged, rejects, days)
            if raw_layer:
                write_ledger_days(con, raw_layer, days)
        return Loaded(rows, quarantined, held, failed_days, _first_problems(con, rejects))
    finally:
        for table in [*staged.values(), *rejects.values(), "latest_loans", "held_loans", "staged_loan_ids"]:
            con.execute(f"drop table if exists {table}")


def _replace_days(con, files, staged, rejects, days):
    """Inside the load's transaction: each ledger's good rows of these days, its quarantined rows, the
    landed_files log and the days' contract gate."""
    day_list = ", ".join(f"date '{d.isoformat()}'" for d in days)
    create_raw_tables(con)
    con.execute(f"delete from raw.landed_files where landing_date in ({day_list})")
    con.execute(f"delete from raw.quarantine where landing_date in ({day_list})")
    # the days' rows change, so both gates decide them again; a release stays (a decision on the day)
    con.execute(f"delete from raw.landing_day_gate where landing_date in ({day_list}) and gate <> 'release'")
    rows, quarantined, held = {}, {}, {}
    for name, ledger in LEDGERS.items():
        con.execute(f"delete from raw.{name} where _landing_date in ({day_list})")
        typed = ", ".join(f"cast({c.name} as {c.type}) as {c.name}" for c in ledger.columns)
        values = ", ".join(f"'{c.name}': s.{c.name}" for c in ledger.columns if not c.personal)
        good = (f"select * from {staged[name]} s where not exists (select 1 from {rejects[name]} r "
                f"where r._source_file = s._source_file and r._source_row = s._source_row)")
        rows[name] = con.execute(  # DuckDB answers an insert with the number of rows inserted
            f"insert into raw.{name} select {typed}, _landing_date, _source_file, _source_row from ({good})"
        ).fetchone()[0]
        con.execute(
            f"insert into raw.quarantine select '{name}', s._landing_date, r._source_file, r._source_row, "
            f"r.column_name, r.reason, to_json({{{values}}}), current_timestamp "
            f"from {rejects[name]} r join {staged[name]} s using (_source_file, _source_row)")
        quarantined[name], held[name] = con.execute(
            f"select count(distinct (_source_file, _source_row)), count(distinct (_source_file, _source_row)) "
            f"filter (where reason like 'held back%') from {rejects[name]}").fetchone()
        con.register("landed", pa.table({"landing_date": days, "source_file": [str(p) for p in files[name]]}))
        con.execute(
            f"insert into raw.landed_files select l.landing_date, '{name}', l.source_file, "
            f"count(s._source_row), current_timestamp from landed l "
            f"left join {staged[name]} s on s._source_file = l.source_file group by all")
        con.unregister("landed")
    return rows, quarantined, held, _decide_contract_gate(con, rejects, days)


def _decide_contract_gate(con, rejects, days) -> list[dt.date]:
    """Per day: failed when a row of a loan's state was quarantined and the policy blocks, else passed."""
    policy = dbt_vars()["held_rows_policy"]
    if policy not in ("block", "age_without"):
        raise ValueError(f"dbt var held_rows_policy: {policy!r} is neither block nor age_without")
    union = " union all ".join(f"select distinct _landing_date, '{name}' as ledger, _source_row from {rejects[name]}"
                               for name in STATE_LEDGERS)
    broken = dict(con.execute(
        f"select _landing_date, string_agg(ledger || ' ' || n, ', ' order by ledger) from "
        f"(select _landing_date, ledger, count(*) as n from ({union}) group by all) group by all").fetchall())
    failed = sorted(day for day in broken if policy == "block")
    con.executemany(
        "insert into raw.landing_day_gate values (?, 'contract', ?, ?, current_timestamp)",
        [(day, "failed" if day in failed else "passed",
          f"rows of a loan's state quarantined or held back: {broken[day]} (policy {policy})" if day in broken
          else "every row of the loans' state met the contract") for day in days])
    return failed
