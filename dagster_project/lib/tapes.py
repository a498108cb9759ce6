"""Month-end status tapes: history older than the daily ledgers, loaded beside them.

A tape (contract MONTH_END_TAPE, docs/tape_contract.md) has one row per account and month end.
It is a CSV or Parquet file in the contract's layout, or in the source's own layout read through
a mapping (lib/mapping.py). Rows that break the contract go to raw.quarantine with file, row,
column and reason; the others replace their portfolio in raw.month_end_tape in one transaction,
so other portfolios are untouched and loading a tape twice leaves the same rows. Roll rates and
Pi read tapes through the same models as the book's own month ends (int_loan_month_end_states).
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .contract import MONTH_END_TAPE
from .loader import (
    FORMATS,
    MAX_REPORTED,
    QUARANTINE_DDL,
    LedgerError,
    Problem,
    _checks,
    _stage,
    create_tape_table,
    transaction,
    violations,
)
from .mapping import Mapping, read_mapping

TAPE_FORMATS = tuple(f".{fmt}" for fmt in FORMATS)  # the ledgers' formats


@dataclass(frozen=True)
class TapeLoaded:
    source: str
    portfolios: list[str]
    rows: int
    accounts: int
    quarantined: int  # rows sent to raw.quarantine
    accounts_with_gaps: int  # accounts missing a month end between their first and last
    missing_month_ends: int
    problems: list[Problem]

    def report(self) -> str:
        lines = [f"{self.source}: {self.rows:,} rows of {self.accounts:,} accounts loaded as portfolio "
                 f"{', '.join(self.portfolios)}; {self.accounts_with_gaps:,} accounts miss "
                 f"{self.missing_month_ends:,} month ends between their first and last (not counted as moves)"]
        if self.quarantined:
            lines.append(f"{self.quarantined:,} rows quarantined in raw.quarantine, the first:")
            lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def tape_mapping(mapping_file: Path | None, portfolio: str | None) -> Mapping:
    """The tape's mapping (its contract's own layout without one); a portfolio given wins over the file's."""
    mapping = (read_mapping(mapping_file, {MONTH_END_TAPE.name: MONTH_END_TAPE}) if mapping_file
               else Mapping.identity(MONTH_END_TAPE))
    if portfolio:
        columns = {c: s for c, s in mapping.columns.items() if c != "portfolio"}
        mapping = dataclasses.replace(mapping, columns=columns, constants={**mapping.constants, "portfolio": portfolio})
    return mapping


def load_tape(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping) -> TapeLoaded:
    """Validate a tape and replace its portfolio(s) in raw.month_end_tape with its good rows."""
    path = Path(path)
    if path.suffix not in TAPE_FORMATS or not path.is_file():
        raise LedgerError([Problem(str(path), None, None, "not a tape: a .csv or .parquet file is expected")])
    staged = _stage(con, MONTH_END_TAPE, [path], mapping)
    key = ", ".join(MONTH_END_TAPE.key)
    rules = _checks(MONTH_END_TAPE) + [(key, "duplicated", f"duplicate key ({key}) in the tape")]
    try:
        con.execute(
            f"create or replace temp table tape_rejects as select _source_file, _source_row, _source_part, "
            f"{mapping.shown_sql('column_name', '_source_part')} as column_name, reason from ("
            f"with keyed as (select *, count(*) over (partition by {key}) > 1 as duplicated from {staged}) "
            + violations(rules, "keyed", "_source_part") + ")")
        good = (f"select * from {staged} s where not exists (select 1 from tape_rejects r "
                f"where r._source_row = s._source_row and r._source_part = s._source_part)")
        total, good_rows = con.execute(f"select (select count(*) from {staged}), (select count(*) from ({good}))"
                                       ).fetchone()
        problems = [Problem(*row) for row in con.execute(
            f"select _source_file, _source_row, column_name, reason from tape_rejects "
            f"order by _source_row limit {MAX_REPORTED}").fetchall()]
        if not good_rows:
            reason = "the tape has no rows" if not total else "every row breaks the tape contract: nothing loaded"
            raise LedgerError(problems or [Problem(str(path), None, None, reason)])
        typed = ", ".join(f"cast({c.name} as {c.type}) as {c.name}" for c in MONTH_END_TAPE.columns)
        con.execute(f"create or replace temp table tape_good as select {typed} from ({good})")
        portfolios = [p for (p,) in con.execute("select distinct portfolio from tape_good order by 1").fetchall()]
        values = ", ".join(f"'{c}': s.{c}" for c in MONTH_END_TAPE.column_names)
        create_tape_table(con)
        con.execute(QUARANTINE_DDL)
        with transaction(con):
            con.execute("delete from raw.month_end_tape where list_contains(?, portfolio)", [portfolios])
            con.execute("insert into raw.month_end_tape by name select * from tape_good")
            con.execute("delete from raw.quarantine where ledger = 'month_end_tape' and source_file = ?", [str(path)])
            con.execute(
                f"insert into raw.quarantine select 'month_end_tape', current_date, r._source_file, r._source_row, "
                f"r.column_name, r.reason, to_json({{{values}}}), current_timestamp "
                f"from tape_rejects r join {staged} s using (_source_file, _source_row, _source_part)")
        accounts, gaps, missing = con.execute(
            "select count(*), count(*) filter (where missing > 0), coalesce(sum(missing), 0) from ("
            "select portfolio, loan_id, datediff('month', min(month_end), max(month_end)) + 1 - count(*) as missing "
            "from tape_good group by all)").fetchone()
        quarantined = con.execute("select count(distinct (_source_row, _source_part)) from tape_rejects").fetchone()[0]
        return TapeLoaded(str(path), portfolios, good_rows, accounts, quarantined, gaps, int(missing), problems)
    finally:
        for table in (staged, "tape_rejects", "tape_good"):
            con.execute(f"drop table if exists {table}")


def landed_tapes(folder: Path) -> dict[str, Path]:
    """The tapes of a tapes landing folder by portfolio: <portfolio>.csv or <portfolio>.parquet."""
    if not folder.exists():
        return {}
    found = sorted(p for p in folder.iterdir() if p.suffix in TAPE_FORMATS and p.is_file())
    twice = sorted({p.stem for p in found if sum(q.stem == p.stem for q in found) > 1})
    if twice:
        raise LedgerError([Problem(str(folder), None, None, f"portfolio {twice[0]} has both a CSV and a Parquet tape")])
    return {p.stem: p for p in found}


def load_landed_tape(con: duckdb.DuckDBPyConnection, folder: Path, portfolio: str) -> TapeLoaded:
    """Load the portfolio's tape of a tapes landing folder, through <portfolio>.yaml when it is there."""
    path = landed_tapes(folder).get(portfolio)
    if path is None:
        raise LedgerError([Problem(str(folder / f"{portfolio}.csv|parquet"), None, None, "tape is missing")])
    mapping_file = folder / f"{portfolio}.yaml"
    return load_tape(con, path, tape_mapping(mapping_file if mapping_file.exists() else None, portfolio))


def land_tape(source: Path, mapping_file: Path | None, folder: Path, portfolio: str) -> Path:
    """Copy a tape (and its mapping) into the tapes landing folder as <portfolio>, where the sensor
    picks it up."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in (folder / f"{portfolio}{suffix}" for suffix in (*TAPE_FORMATS, ".yaml")):
        old.unlink(missing_ok=True)
    target = folder / f"{portfolio}{Path(source).suffix}"
    shutil.copyfile(source, target)
    if mapping_file:
        shutil.copyfile(mapping_file, folder / f"{portfolio}.yaml")
    return target
