"""Benchmark: the daily dbt half (the aging, the overdue matrix, PAR, their tests) on local Spark beside
DuckDB, for a 12-month backfill and one more day, on the same raw rows.

    bash scripts/spark_parity.sh /tmp/x    # once: installs .venv-spark
    .venv/bin/python bench/spark_benchmark.py --loans 100000 [--work /tmp/lending-spark-bench]

The book is bench/benchmark.py's (13 months, every loan disbursed in the first month). DuckDB:
the pipeline (Dagster, ingest, raw audit, dbt) over days 1..365, then day 366; its dbt step's
time is what Spark is compared with. Spark: the raw layer as DuckDB loaded it, written as
Parquet, registered on a local Spark (local[*]), then `dbt build --select tag:daily` over the
same windows. Results go to bench/results/spark_<loans>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.benchmark import START, child, generate  # noqa: E402
from scripts.spark_parity import raw_as_parquet  # noqa: E402

SPARK_DBT = REPO / ".venv-spark" / "bin" / "dbt"


def spark_daily_build(work: Path, first: dt.date, last: dt.date) -> float:
    """dbt build of the daily half on Spark for [first, last], the raw layer re-registered first."""
    env = {**os.environ, "LENDING_SPARK_DIR": str(work / "spark"), "LENDING_MIN_DATE": first.isoformat(),
           "LENDING_MAX_DATE": (last + dt.timedelta(days=1)).isoformat()}
    common = ["--target", "spark", "--profiles-dir", ".", "--target-path", str(work / "spark_target")]
    dbt = [str(SPARK_DBT), "--no-use-colors", "--quiet"]
    with open(work / "spark_dbt.log", "a") as log:
        if not (work / "spark").exists():
            subprocess.run([*dbt, "seed", *common], cwd=REPO / "dbt", env=env, check=True, stdout=log, stderr=log)
            subprocess.run([*dbt, "run-operation", "register_raw_parquet", "--args",
                            json.dumps({"folder": str(work / "raw")}), *common],
                           cwd=REPO / "dbt", env=env, check=True, stdout=log, stderr=log)
        started = time.monotonic()
        subprocess.run([*dbt, "build", "--select", "tag:daily", "--exclude-resource-type", "unit_test", *common],
                       cwd=REPO / "dbt", env=env, check=True, stdout=log, stderr=log)
    return round(time.monotonic() - started, 2)


def loan_days(work: Path, first: dt.date, last: dt.date) -> tuple[int, int]:
    """Rows of fct_loan_aging_daily in [first, last] on DuckDB and in Spark's Parquet files."""
    spark_files = work / "spark" / "warehouse" / "marts.db" / "fct_loan_aging_daily" / "**" / "*.parquet"
    with duckdb.connect(str(work / "full" / "warehouse.duckdb"), read_only=True) as con:
        where = f"as_of_date between date '{first}' and date '{last}'"
        return (con.execute(f"select count(*) from marts.fct_loan_aging_daily where {where}").fetchone()[0],
                con.execute(f"select count(*) from read_parquet('{spark_files}', hive_partitioning = true) "
                            f"where {where}").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/lending-spark-bench"))
    args = parser.parse_args()
    work, loans = args.work, args.loans
    day = lambda n: START + dt.timedelta(days=n - 1)  # noqa: E731 - day n of the book, 1-based
    landing = work / "landing"
    generate(loans, landing)
    full = work / "full"
    full.mkdir(parents=True, exist_ok=True)
    (full / "warehouse.duckdb").unlink(missing_ok=True)
    if not (full / "landing").exists():
        (full / "landing").symlink_to(landing)
    results = {"loans": loans}
    for name, first, last in (("backfill_365_days", day(1), day(365)), ("day_366", day(366), day(366))):
        print(f"[{loans:,}] {name} on DuckDB ...", file=sys.stderr, flush=True)
        duck = child("days", full, str(first), str(last))
        raw_as_parquet(full / "warehouse.duckdb", work / "raw")
        print(f"[{loans:,}] {name} on Spark ...", file=sys.stderr, flush=True)
        spark_seconds = spark_daily_build(work, first, last)
        duck_rows, spark_rows = loan_days(work, first, last)
        results[name] = {"duckdb_pipeline_seconds": duck["seconds"], "duckdb_dbt_seconds": duck["steps"]["dbt_daily_models"],
                         "spark_dbt_seconds": spark_seconds, "loan_days_duckdb": duck_rows, "loan_days_spark": spark_rows}
        print(f"  {results[name]}", file=sys.stderr, flush=True)
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / f"spark_{loans}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
