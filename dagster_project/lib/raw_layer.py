"""The warehouse on Spark (LENDING_ENGINE=spark): the raw layer Spark reads and the views through which
the warehouse file reads what Spark built.

The loader validates and keeps the ledgers in the warehouse file as on DuckDB (the quarantine, the
gate, reloads and restatement are its own), and in the load's transaction writes each day it loaded
as Parquet, <spark dir>/raw/<table>/landing_date=<day>/, replacing that day's folder: DuckDB writes
the files, no row passes through Python. Before each dbt run on Spark the raw tables without a landing
day (the landed files, the gate, the quarantine, the tapes) are written whole, with each ledger's
columns. dbt registers the folders as
Spark tables (macros/register_raw_parquet.sql); after each run every table Spark built is a view of
the same name in the warehouse file, so that the quality gate, the publication and the report read
Spark's marts as they read DuckDB's.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import duckdb

SCHEMA_FILE = "schema.parquet"  # a ledger's columns, no rows
WHOLE_FILE = "rows.parquet"  # a table without a landing day, all its rows


def _raw_tables(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Each raw table, and whether it is a ledger (rows by landing day)."""
    rows = con.execute("select table_name, bool_or(column_name = '_landing_date') from information_schema.columns "
                       "where table_schema = 'raw' group by table_name").fetchall()
    return dict(rows)


def write_ledger_days(con: duckdb.DuckDBPyConnection, raw: Path, days: list[dt.date]) -> None:
    """Each ledger's rows of these landing days, one folder a day, each replacing what that day had. Every
    ledger is written aside first and swapped in only when all are: a write that fails leaves the raw layer
    as it was."""
    staging = {table: raw / table / f".staging-{uuid.uuid4().hex}" for table, is_ledger in _raw_tables(con).items()
               if is_ledger}
    try:
        for table, folder in staging.items():
            folder.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select *, _landing_date as landing_date from raw.{table} "
                        f"where _landing_date in (select unnest($days))) to '{folder}' "
                        "(format parquet, partition_by (landing_date))", {"days": days})
        for table, folder in staging.items():
            for day in days:
                written, target = folder / f"landing_date={day}", raw / table / f"landing_date={day}"
                shutil.rmtree(target, ignore_errors=True)
                if written.exists():
                    written.rename(target)
    finally:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)


def write_undated_files(con: duckdb.DuckDBPyConnection, raw: Path) -> None:
    """What Spark reads besides the landing days' folders, each file replaced at once: every row of the tables
    that have no landing day, and each ledger's columns (a folder without files has no schema for Spark)."""
    for table, is_ledger in _raw_tables(con).items():
        (raw / table).mkdir(parents=True, exist_ok=True)
        rows, name = (f"(select * from raw.{table} limit 0)", SCHEMA_FILE) if is_ledger else (f"raw.{table}", WHOLE_FILE)
        written = raw / table / f".{uuid.uuid4().hex}.parquet"
        con.execute(f"copy {rows} to '{written}' (format parquet)")
        os.replace(written, raw / table / name)


def mirror_spark_tables(con: duckdb.DuckDBPyConnection, spark_warehouse: Path, column_order: dict[str, list[str]]
                        ) -> list[str]:
    """A view in the warehouse file over each table Spark built (<schema>.db/<table>/, Parquet), its columns
    in the model's documented order where it has one (Spark puts partition columns last)."""
    mirrored = []
    for folder in sorted(spark_warehouse.glob("*.db/*")):
        if not any(folder.glob("**/*.parquet")):
            continue
        schema, table = folder.parent.name.removesuffix(".db"), folder.name
        source = f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
        present = [r[0] for r in con.execute(f"describe select * from {source}").fetchall()]
        order = column_order.get(table)
        columns = ", ".join(order) if order and sorted(order) == sorted(present) else "*"
        kind = con.execute("select table_type from information_schema.tables where table_schema = ? "
                           "and table_name = ?", [schema, table]).fetchone()
        if kind and kind[0] != "VIEW":
            raise RuntimeError(f"The warehouse file holds a table {schema}.{table} built on DuckDB: give Spark a "
                               "warehouse of its own (LENDING_WAREHOUSE) instead of mixing the engines' marts")
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace view {schema}.{table} as select {columns} from {source}")
        mirrored.append(f"{schema}.{table}")
    return mirrored
