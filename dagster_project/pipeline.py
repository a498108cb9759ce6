"""The pipeline end to end, in process: what `lending run`, the tests and the benchmark execute.

The same jobs the daily schedule and the sensors start (definitions.py), run one after another on
a Dagster instance: the daily job over a range of days as one backfill run, each landed tape, the
marts. dbt is run from here only for what is not an asset run (parsing, an empty warehouse).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TextIO

import duckdb

from dagster_project.lib.settings import DBT_DIR, DBT_EXECUTABLE, REPO, duckdb_config, engine, tapes_path, warehouse_path


def run_dbt(*args: str, target_path: str | None = None) -> None:
    """dbt of this environment on the project, from dbt/ (where the profile's default warehouse path is
    relative to). A target path other than dbt/target keeps Dagster's manifest out of the way."""
    subprocess.run([str(DBT_EXECUTABLE), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
                    *(["--target-path", target_path] if target_path else [])], cwd=DBT_DIR, check=True)


def dagster_home_at(folder: Path) -> Path:
    """folder made a DAGSTER_HOME configured as the repository's (dagster_home/dagster.yaml), as `lending run`
    uses it: for the tests and the benchmark, whose runs each want an instance of their own."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", folder)
    return folder


def prepare_dbt() -> None:
    """Parse the dbt project so that Dagster reads a manifest matching the models on disk."""
    run_dbt("parse", "--quiet")


def run_pipeline(first_day: dt.date | None, last_day: dt.date | None, instance=None, marts: bool = True,
                 allow_incomplete: bool = False, allow_restatement: bool = False, full_refresh: bool = False,
                 progress: Callable[[str], None] | None = None):
    """One run of the daily job over the partitions [first_day, last_day] (a single-run backfill), then
    (marts) a run of the tape job for each tape of the tapes landing folder and one run rebuilding the
    month-end history marts. Without days (a warehouse of tapes only) the daily models are built empty.
    full_refresh rebuilds the dbt models from scratch (the daily ones from the first disbursement).

    With progress, Dagster's console log is silenced: each step is reported through progress in a line,
    and each run's whole log is written to a file (its path reported too)."""
    import dagster as dg

    from dagster_project import definitions, event_log
    from dagster_project.defs.ingest.assets import ALLOW_INCOMPLETE_TAG
    from dagster_project.defs.partitions import tape_portfolios
    from dagster_project.defs.transform.assets import ALLOW_RESTATEMENT_TAG, environment, stale_seeds
    from dagster_project.lib.tapes import landed_tapes

    defs = definitions.defs()
    instance = instance or dg.DagsterInstance.ephemeral()
    refresh = {"full_refresh": full_refresh}

    def execute(job_name: str, run_config: dict | None = None, **kwargs):
        job = defs.resolve_job_def(job_name)
        if not progress:
            job.execute_in_process(instance=instance, run_config=run_config, **kwargs)
            return
        # Dagster's console log off; what dbt and Great Expectations print goes to the run's log file
        started = time.monotonic()
        run_id = str(uuid.uuid4())  # not the instance's latest run: a sensor may start one meanwhile
        quiet = {**(run_config or {}), "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
        log = warehouse_path().parent / "logs" / f"{job_name}-{dt.datetime.now():%Y%m%dT%H%M%S}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        try:
            with log.open("w", encoding="utf-8") as out, redirect_stdout(out), redirect_stderr(out):
                try:
                    job.execute_in_process(instance=instance, run_config=quiet, run_id=run_id, **kwargs)
                finally:
                    write_events(instance, run_id, out)
        finally:
            for line in step_lines(instance, run_id):
                progress(line)
            run = instance.get_run_by_id(run_id)
            status = run.status.value.lower() if run else "not started"
            progress(f"{job_name} {status} in {time.monotonic() - started:.0f}s, log: {log}")

    warehouse = warehouse_path()
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) if warehouse.exists() else nullcontext() as con:
        stale = stale_seeds(con)
    if stale:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        execute("config_job")
    if first_day is None:
        build_empty_daily_models()
    else:
        # Dagster plans a run of several days with an event per asset and day (4,745 for a year, 9 s) unless told
        # to plan each asset once; a failed run of several days then leaves them missing, not failed, in the UI.
        # It records them one by one unless told to hand each asset's days over together (event_log.py).
        several_days = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
                        "DAGSTER_EVENT_BATCH_SIZE": event_log.BATCH_SIZE} if last_day > first_day else {}
        with environment(several_days):
            execute("daily_ledgers_job", {"ops": {"dbt_daily_models": {"config": refresh}}}, tags={
                "dagster/asset_partition_range_start": first_day.isoformat(),
                "dagster/asset_partition_range_end": last_day.isoformat(),
                ALLOW_INCOMPLETE_TAG: str(allow_incomplete).lower(),
                ALLOW_RESTATEMENT_TAG: str(allow_restatement).lower(),
            })
    if marts:
        tapes = landed_tapes(tapes_path())
        instance.add_dynamic_partitions(
            tape_portfolios.name, sorted(set(tapes) - set(instance.get_dynamic_partitions(tape_portfolios.name))))
        for portfolio in tapes:
            execute("tape_job", partition_key=portfolio)
        execute("marts_job", {"ops": {"dbt_marts": {"config": refresh}}})


def step_lines(instance, run_id: str) -> list[str]:
    """A line per step of a run: what it did (rows loaded, models built, checks passed) and how long it took."""
    checks: dict[str, list[bool]] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event and event.event_type_value == "ASSET_CHECK_EVALUATION":
            checks.setdefault(record.step_key, []).append(event.event_specific_data.passed)
    lines = []
    for stat in instance.get_run_step_stats(run_id):
        done = []
        # a range run records an asset's materialization once per day, each with the run's whole count
        loaded = {entry.asset_materialization.asset_key: entry.asset_materialization.metadata["rows_loaded"].value
                  for entry in stat.materialization_events if "rows_loaded" in entry.asset_materialization.metadata}
        rows = sum(int(count) for count in loaded.values())
        if rows:
            done.append(f"{rows:,} rows loaded")
        elif stat.materialization_events:
            assets = {entry.asset_materialization.asset_key for entry in stat.materialization_events}
            days = {entry.asset_materialization.partition for entry in stat.materialization_events} - {None}
            done.append(f"{len(assets)} asset(s) materialized" + (f" for {len(days)} day(s)" if days else ""))
        passed = checks.get(stat.step_key, [])
        if passed:
            done.append(f"{sum(passed)}/{len(passed)} checks passed")
        seconds = (stat.end_time or time.time()) - stat.start_time if stat.start_time else 0
        lines.append(f"  {stat.step_key}: {stat.status.value.lower()}{', ' if done else ''}{', '.join(done)} "
                     f"({seconds:.1f}s)")
    return lines


def write_events(instance, run_id: str, out: TextIO) -> None:
    """The run's Dagster event log as text."""
    out.write(f"--- Dagster events of run {run_id}\n")
    for record in instance.all_logs(run_id):
        what = record.user_message or (record.dagster_event.event_type_value if record.dagster_event else "")
        out.write(f"{dt.datetime.fromtimestamp(record.timestamp):%Y-%m-%d %H:%M:%S} {record.step_key or '-'} {what}\n")


def build_empty_daily_models() -> None:
    """A warehouse without ledgers (tapes only): empty raw ledger tables and daily models, so that the
    marts build on the tapes alone. Nothing is aged; a warehouse that has ledgers is left as it is."""
    from dagster_project.lib.loader import create_raw_tables

    if engine() != "duckdb":
        raise NotImplementedError("A warehouse of tapes only (no --first/--last) is built on DuckDB only: "
                                  "on Spark, run the daily job over the ledgers' days")
    warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path()), config=duckdb_config()) as con:
        create_raw_tables(con)
        aged = con.execute("select count(*) from information_schema.tables where table_schema = 'marts' "
                           "and table_name = 'fct_loan_aging_daily'").fetchone()[0]
    if aged:
        return
    today = dt.date.today().isoformat()
    with tempfile.TemporaryDirectory() as target:
        run_dbt("build", "--quiet", "--select", "resource_type:seed", "tag:daily", "--exclude-resource-type", "unit_test",
                "--vars", f'{{"min_date": "{today}", "max_date": "{today}"}}', target_path=target)
