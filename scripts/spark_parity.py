"""The same dbt models on local Spark and on DuckDB, compared mart by mart, row for row.

    bash scripts/spark_parity.sh [folder]    # installs .venv-spark first (pyspark, dbt-spark)

A generated book (2,000 loans, 4 months: late payments, reversals, write-offs) goes through the
whole pipeline on DuckDB; its raw layer is written as Parquet, registered on Spark (session
target, local[*]) and the dbt project built there (seeds, models, data tests, then the dbt unit
tests). Each mart Spark built is compared with DuckDB's: decimals, dates and strings equal,
doubles rounded to 9 decimals. Exit 1 if a mart differs or is missing on Spark, or a dbt node (model, seed, data
test, unit test) fails or is skipped there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
SPARK_DBT = REPO / ".venv-spark" / "bin" / "dbt"
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 4, 30)
def step(what: str, started: float) -> None:
    print(f"{what} ({time.monotonic() - started:.0f}s)", flush=True)


def duckdb_book(folder: Path, env: dict[str, str]) -> None:
    lending = str(REPO / ".venv" / "bin" / "lending")
    subprocess.run([lending, "generate", "--loans", "2000", "--months", "4", "--start", FIRST.isoformat(),
                    "--out", str(folder / "landing")], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([lending, "run", "--first", FIRST.isoformat(), "--last", LAST.isoformat()], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def raw_as_parquet(warehouse: Path, folder: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for (table,) in con.execute("select table_name from information_schema.tables where table_schema = 'raw'"
                                    ).fetchall():
            (folder / table).mkdir(parents=True, exist_ok=True)
            con.execute(f"copy raw.{table} to '{folder / table / 'part-0.parquet'}' (format parquet)")


def spark_build(folder: Path, env: dict[str, str]) -> list[dict]:
    dbt = [str(SPARK_DBT), "--no-use-colors", "--quiet"]
    common = ["--target", "spark", "--profiles-dir", ".", "--target-path", str(folder / "spark_target")]
    subprocess.run([*dbt, "run-operation", "register_raw_parquet", "--args", json.dumps({"folder": str(folder / "raw")}),
                    *common], cwd=REPO / "dbt", env=env, check=True)
    results = []
    with open(folder / "spark_dbt.log", "w") as log:  # a failed model prints Spark's whole plan
        # the models with their data tests, then the dbt unit tests (which read the built models' columns)
        for command in (["build", "--exclude-resource-type", "unit_test"], ["test", "--select", "test_type:unit"]):
            subprocess.run([*dbt, *command, *common], cwd=REPO / "dbt", env=env, stdout=log, stderr=subprocess.STDOUT)
            results += json.loads((folder / "spark_target" / "run_results.json").read_text())["results"]
    return results


def compare(warehouse: Path, spark_marts: Path) -> dict[str, tuple[int, int, int]]:
    """Per mart: (DuckDB rows, rows only in DuckDB, rows only in Spark)."""
    differences = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for folder in sorted(spark_marts.iterdir()):
            columns = con.execute("select column_name, data_type from information_schema.columns where table_schema = "
                                  "'marts' and table_name = ? order by ordinal_position", [folder.name]).fetchall()
            values = ", ".join(f"round({c}, 9) as {c}" if t == "DOUBLE" else f"cast({c} as {t}) as {c}"
                               for c, t in columns)
            duck = f"select {values} from marts.{folder.name}"
            spark = (f"select {values} from read_parquet('{folder}/**/*.parquet', hive_partitioning = true, "
                     "union_by_name = true)")
            differences[folder.name] = (
                con.execute(f"select count(*) from marts.{folder.name}").fetchone()[0],
                con.execute(f"select count(*) from ({duck} except all {spark})").fetchone()[0],
                con.execute(f"select count(*) from ({spark} except all {duck})").fetchone()[0])
    return differences


def main(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagster_home").mkdir(exist_ok=True)
    env = {**os.environ, "LENDING_WAREHOUSE": str(folder / "warehouse.duckdb"), "LENDING_LANDING": str(folder / "landing"),
           "LENDING_BI": str(folder / "bi"), "LENDING_TAPES": str(folder / "tapes"),
           "DAGSTER_HOME": str(folder / "dagster_home"), "GX_ANALYTICS_ENABLED": "false",
           "LENDING_SPARK_DIR": str(folder / "spark")}
    started = time.monotonic()
    duckdb_book(folder, env)
    step(f"DuckDB: the book through the whole pipeline into {folder / 'warehouse.duckdb'}", started)
    raw_as_parquet(folder / "warehouse.duckdb", folder / "raw")
    results = spark_build(folder, env)
    failed = [r["unique_id"] for r in results if r["status"] in ("error", "fail")]
    skipped = [r["unique_id"] for r in results if r["status"] == "skipped"]
    step(f"Spark: {len(results)} dbt nodes, {len(failed)} failed, {len(skipped)} skipped; dbt's log: "
         f"{folder / 'spark_dbt.log'}", started)
    differences = compare(folder / "warehouse.duckdb", folder / "spark" / "warehouse" / "marts.db")
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        marts = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = 'marts' and table_type = 'BASE TABLE'").fetchall()}
    for mart, (rows, only_duckdb, only_spark) in differences.items():
        print(f"  {mart:40s} {rows:9,} rows  {'identical' if only_duckdb == only_spark == 0 else 'DIFFERENT'}"
              + (f" ({only_duckdb} only on DuckDB, {only_spark} only on Spark)" if only_duckdb or only_spark else ""))
    missing = sorted(marts - set(differences))
    for mart in missing:
        print(f"  {mart:40s} not built on Spark")
    differing = [m for m, (_, a, b) in differences.items() if a or b]
    print(f"{len(differences) - len(differing)} of {len(marts)} marts identical on both engines; "
          f"failed on Spark: {failed or 'none'}; skipped: {skipped or 'none'}")
    return 1 if differing or missing or failed or skipped else 0

if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "data" / "spark_parity"))
