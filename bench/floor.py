"""The fixed cost of a daily run, part by part: what would remain with dbt run inside Dagster's process
and without Great Expectations, the two changes a day at 4x bare SQL would need (docs/benchmark.md).

    .venv/bin/python bench/floor.py [--warehouse /tmp/lending-bench/1000/full/warehouse.duckdb] [--day 2026-01-01]

On a copy of a warehouse bench/benchmark.py aged (the day is aged again, as a rerun would), each part
in a fresh process, three times, the median printed:

  definitions        importing Dagster and loading the project's definitions (dagster-dbt imports dbt-core);
  gx import          importing Great Expectations after them (the raw audit's import);
  dbt as a process   the daily dbt half for the day the way dagster-dbt runs it, a dbt process;
  dbt in process     the same through dbt's own dbtRunner, in a process that has loaded dagster-dbt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from dagster_project.defs.transform.assets import BUILD, DAILY_SELECTOR  # noqa: E402 - the daily run's own dbt command

DBT_ARGS = [*BUILD, "--select", DAILY_SELECTOR, "--log-format", "json", "--project-dir", ".", "--profiles-dir", "."]

# each part prints the seconds it took, timed inside its process after Python itself started
PARTS = {
    "definitions": "import time; t = time.monotonic(); from dagster_project import definitions; definitions.defs(); "
                   "print(time.monotonic() - t)",
    "gx import": "from dagster_project import definitions; from dagster_project.lib import quality; definitions.defs(); "
                 "import time; t = time.monotonic(); quality.import_great_expectations(); print(time.monotonic() - t)",
    "dbt as a process": "import dagster_dbt, subprocess, sys, time; from dagster_project.lib.settings import "
                        "DBT_EXECUTABLE; t = time.monotonic(); subprocess.run([str(DBT_EXECUTABLE), *ARGS], "
                        "check=True, capture_output=True); print(time.monotonic() - t)",
    "dbt in process": "import dagster_dbt, time; from dbt.cli.main import dbtRunner; t = time.monotonic(); "
                      "assert dbtRunner().invoke(ARGS).success; "
                      "print(time.monotonic() - t)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/lending-bench/1000/full/warehouse.duckdb"))
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 1, 1), help="day 366 of the book")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        warehouse = Path(scratch) / "warehouse.duckdb"
        shutil.copy(args.warehouse, warehouse)
        env = {**os.environ, "LENDING_WAREHOUSE": str(warehouse), "LENDING_MIN_DATE": args.day.isoformat(),
               "LENDING_MAX_DATE": (args.day + dt.timedelta(days=1)).isoformat(), "GX_ANALYTICS_ENABLED": "false",
               "PYTHONPATH": str(REPO)}
        dbt_args = [*DBT_ARGS, "--target-path", str(Path(scratch) / "target")]
        medians = {}
        for part, code in PARTS.items():
            seconds = []
            for _ in range(3):
                out = subprocess.run([sys.executable, "-c", f"ARGS = {dbt_args!r}\n{code}"], env=env, cwd=REPO / "dbt",
                                     capture_output=True, text=True, check=True)
                seconds.append(float(out.stdout.strip().splitlines()[-1]))
            medians[part] = round(statistics.median(seconds), 2)
            print(f"{part}: {medians[part]} s (runs: {', '.join(f'{s:.2f}' for s in seconds)})", file=sys.stderr)
    print(json.dumps(medians))


if __name__ == "__main__":
    main()
