"""Benchmark: the daily pipeline (ingest, raw audit, the daily dbt half with its tests) on local Spark
(LENDING_ENGINE=spark) beside DuckDB, for a 12-month backfill and one more day, on the same book.

    bash scripts/setup_spark.sh    # once: installs .venv-spark
    .venv/bin/python bench/spark_benchmark.py --loans 100000 [--work /tmp/lending-spark-bench]

The book is bench/benchmark.py's (13 months, every loan disbursed in the first month). Each engine
runs days 1..365 as one run, then day 366, each in a fresh process (bench/benchmark.py's child);
reported: the run's wall time, its dbt step, and the loan-days it aged. Results go to
bench/results/spark_<loans>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.benchmark import START, child, generate  # noqa: E402


def run_days(work: Path, engine: str, first: dt.date, last: dt.date) -> dict:
    """The daily job over [first, last] on one engine, in a fresh process."""
    os.environ.update({"LENDING_ENGINE": engine, "LENDING_SPARK_DIR": str(work / "spark")})
    result = child("days", work, str(first), str(last))
    return {"pipeline_seconds": result["seconds"], "dbt_seconds": result["steps"]["dbt_daily_models"],
            "loan_days": result["rows"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/lending-spark-bench"))
    args = parser.parse_args()
    work, loans = args.work, args.loans
    day = lambda n: START + dt.timedelta(days=n - 1)  # noqa: E731 - day n of the book, 1-based
    landing = work / "landing"
    generate(loans, landing)
    results = {"loans": loans}
    for engine in ("duckdb", "spark"):
        folder = work / engine
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "landing").symlink_to(landing)
        for name, first, last in (("backfill_365_days", day(1), day(365)), ("day_366", day(366), day(366))):
            print(f"[{loans:,}] {name} on {engine} ...", file=sys.stderr, flush=True)
            results.setdefault(name, {})[engine] = run_days(folder, engine, first, last)
            print(f"  {results[name][engine]}", file=sys.stderr, flush=True)
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / f"spark_{loans}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
