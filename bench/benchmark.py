"""Benchmark: ingest + aging for one more day, a 12-month backfill, and bare DuckDB SQL for the same day.

    .venv/bin/python bench/benchmark.py --loans 100000 [--loans 1000000] [--work /tmp/lending-bench]

For each book size it generates a 13-month book whose loans are all disbursed in the first
month (so the book has the same size on day 30 and on day 365), then measures, each step in
a child process so that its peak memory is its own:

  backfill   one Dagster run loading and aging days 1..365 into an empty warehouse, with the
             daily marts (overdue matrix, PAR);
  day 366    one more day after 365 days of history (ingest + age + daily marts, one Dagster run);
  risk marts the month-end marts (roll rates, Pi, expected loss, vintages) rebuilt after day 366;
  day 30     one more day after 29 days of history, in a second warehouse;
  bare SQL   the compiled SQL of fct_loan_aging_daily for the same day, run by DuckDB
             alone on the same tables (no Dagster, no dbt, no ingest), into a temp table.

Each step's Dagster instance is a new one configured by dagster_home/dagster.yaml, the kind `lending run`
uses (runs and events in SQLite files). Peak memory is the largest resident set of the step's processes
(Python with Dagster, or the dbt subprocess where DuckDB does the work). Results go to
bench/results/<loans>.json and are printed as a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
START = dt.date(2025, 1, 1)


def child(step: str, work: Path, *args: str) -> dict:
    """Run one step in a fresh process; return its wall time and the peak RSS of it and its children. Its
    Dagster instance is a new one configured as dagster_home's, as `lending run` uses it (runs and events
    in SQLite files)."""
    from dagster_project.pipeline import dagster_home_at

    home = work / "dagster_home"
    shutil.rmtree(home, ignore_errors=True)
    dagster_home_at(home)
    env = {**os.environ, "LENDING_WAREHOUSE": str(work / "warehouse.duckdb"), "LENDING_LANDING": str(work / "landing"),
           "DAGSTER_HOME": str(home), "GX_ANALYTICS_ENABLED": "false"}
    out = subprocess.run([PYTHON, __file__, "--step", step, *args], env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"step {step} {args} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def step(name: str, first: dt.date, last: dt.date) -> dict:
    """Executed in the child process."""
    sys.path.insert(0, str(REPO))
    import dagster as dg
    import duckdb

    from dagster_project.lib.settings import warehouse_path
    from dagster_project.pipeline import prepare_dbt, run_pipeline

    prepare_dbt()  # as `lending run` does: dbt's saved parse then matches this warehouse's profile
    instance = dg.DagsterInstance.get()  # its files created first, as a standing instance has them
    started = time.monotonic()
    if name == "days":  # as `lending run` runs it: Dagster's console log off, each run's log in a file
        run_pipeline(first, last, instance=instance, marts=False, progress=lambda line: None)
    elif name == "marts":
        from dagster_project import definitions

        definitions.defs().resolve_job_def("marts_job").execute_in_process(instance=instance)
        return {"seconds": round(time.monotonic() - started, 2), "peak_rss_mb": round(peak_rss_mb()), "rows": 0}
    elif name == "bare_sql":
        sql = compiled_aging_sql(first, last)
        started = time.monotonic()
        with duckdb.connect(str(warehouse_path())) as con:
            con.execute("set memory_limit = '3GB'; set preserve_insertion_order = false")
            con.execute(f"create temp table aged as {sql}")
            rows = con.execute("select count(*) from aged").fetchone()[0]
        return {"seconds": round(time.monotonic() - started, 2), "peak_rss_mb": round(peak_rss_mb()), "rows": rows}
    seconds = time.monotonic() - started
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        rows = con.execute("select count(*) from marts.fct_loan_aging_daily where as_of_date between ? and ?",
                           [first, last]).fetchone()[0]
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_rss_mb()), "rows": rows, "steps": step_seconds(instance)}


def step_seconds(instance) -> dict[str, float]:
    """Where a run's time went: each Dagster step's wall time (the rest is Dagster's start-up and loading the
    definitions)."""
    return {stat.step_key: round(stat.end_time - stat.start_time, 2)
            for run in instance.get_runs() for stat in instance.get_run_step_stats(run.run_id)
            if stat.end_time and stat.start_time}


def compiled_aging_sql(first: dt.date, last: dt.date) -> str:
    """fct_loan_aging_daily's SQL for the window, compiled by dbt against the current warehouse."""
    from dagster_project.pipeline import run_dbt

    dbt_vars = json.dumps({"min_date": first.isoformat(), "max_date": (last + dt.timedelta(days=1)).isoformat()})
    run_dbt("compile", "--quiet", "--select", "fct_loan_aging_daily", "--vars", dbt_vars, target_path="target-bench")
    path = REPO / "dbt" / "target-bench" / "compiled" / "lending" / "models" / "daily" / "core"
    return (path / "fct_loan_aging_daily.sql").read_text()


def generate(loans: int, landing: Path) -> None:
    """The benchmark's book into landing (13 months, every loan disbursed in the first), unless it is there."""
    if (landing / "_truth" / "summary.json").exists():
        return
    # in a process of its own: a child process starts with its parent's peak memory as its own (Linux keeps
    # the high-water mark across fork and exec), and generating 1,000,000 loans peaks at about 15 GB
    t0 = time.monotonic()
    subprocess.run([PYTHON, "-c", "import sys, pathlib; from demo_book.generator import BookConfig, generate_book; "
                    f"generate_book(BookConfig(n_loans={loans}, months=13, start='{START}', origination_months=1), "
                    f"pathlib.Path(sys.argv[1]))", str(landing)], check=True, cwd=REPO)
    print(f"generated {loans:,} loans in {time.monotonic() - t0:.0f}s", file=sys.stderr)


def bench(loans: int, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    landing = work / "landing"
    generate(loans, landing)
    day = lambda n: START + dt.timedelta(days=n - 1)  # noqa: E731 - day n of the book, 1-based
    results = {"loans": loans}
    full, early = work / "full", work / "early"
    for folder in (full, early):
        folder.mkdir(exist_ok=True)
        (folder / "warehouse.duckdb").unlink(missing_ok=True)
        (folder / "landing").unlink(missing_ok=True)
        (folder / "landing").symlink_to(landing)

    print(f"[{loans:,}] backfill of days 1..365 ...", file=sys.stderr, flush=True)
    results["backfill_365_days"] = child("days", full, str(day(1)), str(day(365)))
    print(f"[{loans:,}] day 366 ...", file=sys.stderr, flush=True)
    results["day_366"] = child("days", full, str(day(366)), str(day(366)))
    results["day_366_bare_sql"] = child("bare_sql", full, str(day(366)), str(day(366)))
    results["warehouse_mb_after_366_days"] = round((full / "warehouse.duckdb").stat().st_size / 2**20)
    print(f"[{loans:,}] marts job (rebuild, audit, publish, report) ...", file=sys.stderr, flush=True)
    results["marts"] = child("marts", full, str(day(366)), str(day(366)))

    print(f"[{loans:,}] day 30 ...", file=sys.stderr, flush=True)
    child("days", early, str(day(1)), str(day(29)))
    results["day_30"] = child("days", early, str(day(30)), str(day(30)))
    results["day_30_bare_sql"] = child("bare_sql", early, str(day(30)), str(day(30)))

    results["day_366_over_bare_sql"] = round(results["day_366"]["seconds"] / results["day_366_bare_sql"]["seconds"], 2)
    results["day_366_over_day_30"] = round(results["day_366"]["seconds"] / results["day_30"]["seconds"], 2)
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / f"{loans}.json").write_text(json.dumps(results, indent=2))
    return results


def markdown(all_results: list[dict]) -> str:
    lines = ["| loans | step | wall time (s) | peak memory (MB) | loan-days written |", "|---|---|---|---|---|"]
    for r in all_results:
        for key, label in (("backfill_365_days", "backfill 12 months (days 1-365), one run"),
                           ("day_366", "one more day: ingest + age day 366"),
                           ("day_366_bare_sql", "bare DuckDB SQL, day 366"),
                           ("day_30", "one more day: ingest + age day 30"),
                           ("day_30_bare_sql", "bare DuckDB SQL, day 30"),
                           ("marts", "marts_job: risk and collections marts rebuilt, audited, published, report")):
            m = r[key]
            lines.append(f"| {r['loans']:,} | {label} | {m['seconds']} | {m['peak_rss_mb']:,} | {m['rows']:,} |")
        for key in ("backfill_365_days", "day_366"):
            steps = "; ".join(f"{name} {seconds}" for name, seconds in r[key].get("steps", {}).items())
            lines.append(f"| {r['loans']:,} | {key} by Dagster step (s) | {steps} | | |")
        lines.append(f"| {r['loans']:,} | day 366 / bare SQL; day 366 / day 30; warehouse size | "
                     f"{r['day_366_over_bare_sql']}x; {r['day_366_over_day_30']}x; {r['warehouse_mb_after_366_days']:,} MB"
                     " | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, action="append", help="book size; repeat for several")
    parser.add_argument("--work", type=Path, default=Path("/tmp/lending-bench"))
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("first", nargs="?", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("last", nargs="?", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(args.step, args.first, args.last)))
        return
    sys.path.insert(0, str(REPO))
    results = [bench(loans, args.work / str(loans)) for loans in (args.loans or [100_000])]
    print(markdown(results))


if __name__ == "__main__":
    main()
