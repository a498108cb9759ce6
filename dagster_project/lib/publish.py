"""Publish the marts to BI: a separate DuckDB file and Parquet copies, swapped in atomically.

Called only after every blocking check passed (write, audit, publish). Everything is written
under temporary names in the BI folder and becomes visible in two renames: the DuckDB file
(os.replace), then the Parquet folder (a symlink replaced the same way). A crash before the
rename leaves the last publication as it was; the next publish removes the leftovers. A reader
that opened the old file keeps reading it (the rename does not touch an open file). The file
is made read-only: BI opens it read only.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from .settings import duckdb_config

PUBLISHED_FILE = "lending_bi.duckdb"
PARQUET_LINK = "parquet"
LOAN_DAY_MARTS = ("fct_loan_aging_daily", "fct_loan_regulatory_grades_daily")  # published for recent days only


def published_file(bi_dir: Path) -> Path:
    return Path(bi_dir) / PUBLISHED_FILE


def publish(warehouse: Path, bi_dir: Path, recent_days: int, progress: Callable[[str], None] = print) -> dict:
    """Copy every mart of the warehouse (the loan x day ones for their last recent_days days) into a
    new BI file and Parquet folder, then swap them in. Returns rows per mart."""
    bi_dir = Path(bi_dir)
    bi_dir.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(bi_dir)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    new_file = bi_dir / f".{PUBLISHED_FILE}.{stamp}.tmp"
    new_parquet = bi_dir / f".parquet-{stamp}.tmp"
    new_parquet.mkdir()
    rows = {}
    with duckdb.connect(str(new_file), config=duckdb_config()) as con:
        # attached under its own name: the views dbt created there name their tables with it
        source = Path(warehouse).stem
        con.execute(f"attach '{warehouse}' as \"{source}\" (read_only)")
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'marts' "
            "order by table_name", [source]).fetchall()]
        last_day = con.execute(f'select max(as_of_date) from "{source}".marts.fct_loan_aging_daily').fetchone()[0]
        for done, mart in enumerate(marts, start=1):
            recent = f" where as_of_date > date '{last_day}' - {recent_days}" if mart in LOAN_DAY_MARTS else ""
            con.execute(f'create table main.{mart} as select * from "{source}".marts.{mart}{recent}')
            con.execute(f"copy main.{mart} to '{new_parquet / mart}.parquet' (format parquet)")
            rows[mart] = con.execute(f"select count(*) from main.{mart}").fetchone()[0]
            progress(f"published {mart}: {rows[mart]:,} rows ({done}/{len(marts)})")
        con.execute(
            "create table main.publication as select cast(? as timestamp) as published_at, "
            "cast(? as date) as last_aged_day, ? as recent_days, ? as marts",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), last_day, recent_days, len(marts)])
        con.execute(f'detach "{source}"')
    _fsync(new_file)
    new_file.chmod(0o444)
    os.replace(new_file, published_file(bi_dir))
    parquet = bi_dir / f"parquet-{stamp}"
    new_parquet.rename(parquet)
    link = bi_dir / f".{PARQUET_LINK}.{stamp}.tmp"
    link.symlink_to(parquet.name)
    os.replace(link, bi_dir / PARQUET_LINK)
    _fsync(bi_dir)
    _remove_leftovers(bi_dir)
    return rows


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_leftovers(bi_dir: Path) -> None:
    """Temporary files of an interrupted publish, and Parquet folders no longer linked."""
    link = bi_dir / PARQUET_LINK
    current = os.readlink(link) if link.is_symlink() else None
    for path in bi_dir.iterdir():
        if path.name.endswith(".tmp") or (path.name.startswith("parquet-") and path.name != current):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
