import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_project.defs.partitions import WAREHOUSE_POOL, daily_partitions
from dagster_project.defs.resources import Warehouse
from dagster_project.defs.transform.project import dbt_project
from dagster_project.lib import settings
from dagster_project.lib.loader import create_raw_tables
from dagster_project.lib.raw_layer import mirror_spark_tables, write_undated_files
from dagster_project.lib.restatement import aging_parts, aging_window

DAILY_SELECTOR = "tag:daily"  # the rest is rebuilt whole
SEEDS_SELECTOR = "resource_type:seed"  # the lender's configuration, loaded when a file changes
ALLOW_RESTATEMENT_TAG = "lending/allow_restatement"  # "true": late data may re-age past restatement_horizon_days
# dbt unit tests check SQL, not data: the suite runs them once (tests/unit/test_dbt_unit_tests.py), not every run.
# Nothing reads an asset run's manifest.json or run_results.json (Dagster has the events, a failure keeps dbt.log):
# not writing them takes about 0.7 s off a day's dbt step at 100,000 loans (docs/benchmark.md).
BUILD = ["build", "--exclude-resource-type", "unit_test", "--no-write-json"]
FULL_REFRESH = {True: ["--full-refresh"], False: []}


@contextmanager
def environment(values: dict[str, str]):
    """The variables set for the dbt subprocesses started inside, as they were afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_build(dbt: DbtCliResource, args: list[str], context: dg.AssetExecutionContext) -> Iterator:
    """dbt build for an asset run, streamed as Dagster events. dagster-dbt gives each invocation a target
    folder of its own (dbt/target/<op>-<run>-<id>: the saved parse, dbt.log, the compiled SQL, 2.3 MB for a
    day); a build that succeeded has its folder removed, or dbt/target would grow by that much every run.
    A failed build's folder stays, for its log and the compiled SQL of what failed."""
    invocation = dbt.cli([*BUILD, *args], context=context)
    yield from invocation.stream()
    shutil.rmtree(invocation.target_path)


def documented_columns() -> dict[str, list[str]]:
    """Each model's columns in the order its YAML lists them."""
    nodes = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))["nodes"].values()
    return {node["name"]: list(node["columns"]) for node in nodes if node["resource_type"] in ("model", "seed")}


@contextmanager
def on_engine(warehouse: Warehouse):
    """Around a dbt invocation on Spark: the raw tables without a landing day written for Spark before it,
    and Spark's tables made views of the warehouse file after it (lib/raw_layer.py). Nothing on DuckDB."""
    if settings.engine() == "duckdb":
        yield
        return
    with warehouse.connect() as con:
        create_raw_tables(con)  # Spark reads every source from the first run, the seeds' included
        write_undated_files(con, settings.raw_layer_path())
    try:
        with environment({"LENDING_SPARK_DIR": str(settings.spark_path())}):  # the profile has no default of its own
            yield
    finally:
        with warehouse.connect() as con:
            mirror_spark_tables(con, settings.spark_path() / "warehouse", documented_columns())


def seed_checksums() -> dict[str, str]:
    """Each seed file's checksum, as dbt parsed it: dagster-dbt's code version of a seed."""
    return {key.path[-1]: version for key, version in dbt_seeds.code_versions_by_key.items()}


def stale_seeds(con: duckdb.DuckDBPyConnection | None) -> list[str]:
    """The seeds whose file differs from what the warehouse last loaded, or that it never loaded (no
    warehouse yet: con None)."""
    loaded = {}
    if con and con.execute("select count(*) from information_schema.tables "
                           "where table_schema = 'config' and table_name = 'seed_versions'").fetchone()[0]:
        loaded = dict(con.execute("select seed, arg_max(checksum, loaded_at) from config.seed_versions "
                                  "group by seed").fetchall())
    return sorted(name for name, checksum in seed_checksums().items() if loaded.get(name) != checksum)


def seeds_signature() -> str:
    return hashlib.sha256(json.dumps(seed_checksums(), sort_keys=True).encode()).hexdigest()[:16]


def require_current_seeds(con: duckdb.DuckDBPyConnection) -> None:
    stale = stale_seeds(con)
    if stale:
        raise dg.Failure(f"The configuration seeds {', '.join(stale)} differ from what the warehouse holds: run "
                         "config_job (materialize the config group) first; `lending run` does it itself.")


class LayeredTranslator(DagsterDbtTranslator):
    """Asset groups as the dbt project reads: config (seeds), staging, aging (the core layer), risk and
    collections (their intermediate models and marts)."""

    def get_group_name(self, dbt_resource_props) -> str:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        path = dbt_resource_props["original_file_path"].split("/")  # models/<half>/<layer>/[<domain>/]...
        if path[1] == "staging":
            return "staging"
        if path[2] == "core":
            return "aging"
        return path[3] if path[3] in ("risk", "collections") else "risk"


TRANSLATOR = LayeredTranslator()


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild the incremental models from scratch (dbt --full-refresh)."""


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    select=DAILY_SELECTOR,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    name="dbt_daily_models",
)
def dbt_daily_models(context: dg.AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource,
                     warehouse: Warehouse):
    """Seeds, staging views and the incremental models, aged for the partition window [min_date, max_date),
    widened to restate the days that late data (or a day loaded again) changed.

    A backfill is one dbt run over the whole range, or several in a row for a book whose range holds more
    loan-days than the var aging_max_loan_days_per_run (DuckDB's memory). A full refresh rebuilds every day
    from the first disbursement up to the window's end.
    """
    window = context.partition_time_window
    with warehouse.connect(read_only=True) as con:
        require_current_seeds(con)
        days = aging_window(con, window.start.date(), window.end.date(),
                            allow_restatement=config.full_refresh
                            or context.run.tags.get(ALLOW_RESTATEMENT_TAG) == "true")
        loans, first_disbursement = con.execute(
            "select count(distinct loan_id), min(origination_date) from raw.loans where origination_date < ?",
            [days.end]).fetchone()
    restated = [day for day in days.restated_days if day >= daily_partitions.start.date()]
    if restated and not config.full_refresh:
        context.log.warning(f"Restating {len(restated)} day(s) outside the partitions run: "
                            f"{restated[0]} .. {restated[-1]} (aging {days.start} .. {days.end})")
    start = first_disbursement if config.full_refresh and first_disbursement else days.start
    parts = aging_parts(start, days.end, loans, int(settings.dbt_vars()["aging_max_loan_days_per_run"]))
    for number, (part_start, part_end) in enumerate(parts, start=1):
        if len(parts) > 1:
            context.log.info(f"Aging part {number} of {len(parts)}: {part_start} .. "
                             f"{part_end - dt.timedelta(days=1)} ({loans:,} loans)")
        bounds = {"LENDING_MIN_DATE": part_start.isoformat(), "LENDING_MAX_DATE": part_end.isoformat()}
        with environment(bounds), on_engine(warehouse):  # not --vars: a changed var re-parses the whole dbt project
            events = dbt_build(dbt, FULL_REFRESH[config.full_refresh and number == 1], context)
            if number == len(parts):
                yield from events
                continue
            # an earlier part's models are built and tested (a test that fails stops the run); Dagster
            # records the models once, from the last part, and an earlier part's warnings in its log
            for event in events:
                if isinstance(event, dg.AssetCheckResult) and not event.passed:
                    context.log.warning(f"Part {number}: {event.check_name} on {event.asset_key.to_user_string()} "
                                        f"failed: {event.description}")
    # the restated partitions, so that Dagster shows them as rematerialized by this run
    for key in (k for k in context.selected_asset_keys if k.path[0] == "marts" and k in context.assets_def.keys):
        for day in restated:
            context.log_event(dg.AssetMaterialization(
                asset_key=key, partition=day.isoformat(), metadata={"restated": True}))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    select=SEEDS_SELECTOR,
    pool=WAREHOUSE_POOL,
    name="dbt_seeds",
)
def dbt_seeds(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """The lender's configuration (bucket edges, rules, thresholds, ladders): every seed, with the tests
    on seeds alone (cautious: a test that also reads a model runs with that model)."""
    with on_engine(warehouse):
        yield from dbt_build(dbt, ["--indirect-selection", "cautious"], context)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    exclude=f"{DAILY_SELECTOR} {SEEDS_SELECTOR}",
    pool=WAREHOUSE_POOL,
    name="dbt_marts",
)
def dbt_marts(context: dg.AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource, warehouse: Warehouse):
    """The marts that are rebuilt whole after each daily run: month-end risk history and collections."""
    with warehouse.connect(read_only=True) as con:
        require_current_seeds(con)
    with on_engine(warehouse):
        yield from dbt_build(dbt, FULL_REFRESH[config.full_refresh], context)
