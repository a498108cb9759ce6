"""The pipeline end to end, in process: what `lending run`, the tests and the benchmark execute.

The same jobs the daily schedule and the sensors start (definitions.py), run one after another on
a Dagster instance: the daily job over a range of days as one backfill run, each landed tape, the
marts. dbt is run from here only for what is not an asset run (parsing, an empty warehouse).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile

import duckdb

from dagster_project.lib.settings import DBT_DIR, DBT_EXECUTABLE, duckdb_config, tapes_path, warehouse_path


def run_dbt(*args: str, target_path: str | None = None) -> None:
    """dbt of this environment on the project, from dbt/ (where the profile's default warehouse path is
    relative to). A target path other than dbt/target keeps Dagster's manifest out of the way."""
    subprocess.run([str(DBT_EXECUTABLE), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
                    *(["--target-path", target_path] if target_path else [])], cwd=DBT_DIR, check=True)


def prepare_dbt() -> None:
    """Parse the dbt project so that Dagster reads a manifest matching the models on disk."""
    run_dbt("parse", "--quiet")


def run_pipeline(first_day: dt.date | None, last_day: dt.date | None, instance=None, marts: bool = True,
                 allow_incomplete: bool = False, allow_restatement: bool = False, full_refresh: bool = False):
    """One run of the daily job over the partitions [first_day, last_day] (a single-run backfill), then
    (marts) a run of the tape job for each tape of the tapes landing folder and one run rebuilding the
    month-end history marts. Without days (a warehouse of tapes only) the daily models are built empty.
    full_refresh rebuilds the dbt models from scratch (the daily ones from the first disbursement)."""
    import dagster as dg

    from dagster_project import definitions
    from dagster_project.defs.ingest.assets import ALLOW_INCOMPLETE_TAG
    from dagster_project.defs.partitions import tape_portfolios
    from dagster_project.defs.transform.assets import ALLOW_RESTATEMENT_TAG
    from dagster_project.lib.tapes import landed_tapes

    defs = definitions.defs()
    instance = instance or dg.DagsterInstance.ephemeral()
    refresh = {"full_refresh": full_refresh}
    if first_day is None:
        build_empty_daily_models()
    else:
        defs.resolve_job_def("daily_ledgers_job").execute_in_process(
            instance=instance,
            run_config={"ops": {"dbt_daily_models": {"config": refresh}}},
            tags={
                "dagster/asset_partition_range_start": first_day.isoformat(),
                "dagster/asset_partition_range_end": last_day.isoformat(),
                ALLOW_INCOMPLETE_TAG: str(allow_incomplete).lower(),
                ALLOW_RESTATEMENT_TAG: str(allow_restatement).lower(),
            },
        )
    if marts:
        tapes = landed_tapes(tapes_path())
        instance.add_dynamic_partitions(
            tape_portfolios.name, sorted(set(tapes) - set(instance.get_dynamic_partitions(tape_portfolios.name))))
        for portfolio in tapes:
            defs.resolve_job_def("tape_job").execute_in_process(instance=instance, partition_key=portfolio)
        defs.resolve_job_def("marts_job").execute_in_process(
            instance=instance, run_config={"ops": {"dbt_marts": {"config": refresh}}})


def build_empty_daily_models() -> None:
    """A warehouse without ledgers (tapes only): empty raw ledger tables and daily models, so that the
    marts build on the tapes alone. Nothing is aged; a warehouse that has ledgers is left as it is."""
    from dagster_project.lib.contract import LEDGERS
    from dagster_project.lib.loader import GATE_DDL, LANDED_FILES_DDL, create_tape_table, raw_table_ddl

    warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path()), config=duckdb_config()) as con:
        con.execute("create schema if not exists raw")
        for ddl in (LANDED_FILES_DDL, GATE_DDL, *(raw_table_ddl(ledger) for ledger in LEDGERS.values())):
            con.execute(ddl)
        create_tape_table(con)
        aged = con.execute("select count(*) from information_schema.tables where table_schema = 'marts' "
                           "and table_name = 'fct_loan_aging_daily'").fetchone()[0]
    if aged:
        return
    today = dt.date.today().isoformat()
    with tempfile.TemporaryDirectory() as target:
        run_dbt("build", "--quiet", "--select", "tag:daily", "--exclude-resource-type", "unit_test",
                "--vars", f'{{"min_date": "{today}", "max_date": "{today}"}}', target_path=target)
