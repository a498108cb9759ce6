import os
from contextlib import contextmanager

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_project.defs.partitions import WAREHOUSE_POOL, daily_partitions
from dagster_project.defs.resources import Warehouse
from dagster_project.defs.transform.project import dbt_project
from dagster_project.lib.restatement import aging_window

DAILY_SELECTOR = "tag:daily"  # the rest is rebuilt whole
ALLOW_RESTATEMENT_TAG = "lending/allow_restatement"  # "true": late data may re-age past restatement_horizon_days
# dbt unit tests check SQL, not data: the suite runs them once (tests/unit/test_dbt_unit_tests.py), not every run.
BUILD = ["build", "--exclude-resource-type", "unit_test"]
FULL_REFRESH = {True: ["--full-refresh"], False: []}
FIRST_DAY = "1900-01-01"  # the aging starts at the first disbursement on or after it


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

    A backfill is one dbt run over the whole range. A full refresh rebuilds every day from the first
    disbursement up to the window's end.
    """
    window = context.partition_time_window
    with warehouse.connect(read_only=True) as con:
        days = aging_window(con, window.start.date(), window.end.date(),
                            allow_restatement=config.full_refresh
                            or context.run.tags.get(ALLOW_RESTATEMENT_TAG) == "true")
    restated = [day for day in days.restated_days if day >= daily_partitions.start.date()]
    if restated and not config.full_refresh:
        context.log.warning(f"Restating {len(restated)} day(s) outside the partitions run: "
                            f"{restated[0]} .. {restated[-1]} (aging {days.start} .. {days.end})")
    bounds = {"LENDING_MIN_DATE": FIRST_DAY if config.full_refresh else days.start.isoformat(),
              "LENDING_MAX_DATE": days.end.isoformat()}
    with environment(bounds):  # not --vars: a var that changes re-parses the whole dbt project
        yield from dbt.cli([*BUILD, *FULL_REFRESH[config.full_refresh]], context=context).stream()
    # the restated partitions, so that Dagster shows them as rematerialized by this run
    for key in (k for k in context.selected_asset_keys if k.path[0] == "marts" and k in context.assets_def.keys):
        for day in restated:
            context.log_event(dg.AssetMaterialization(
                asset_key=key, partition=day.isoformat(), metadata={"restated": True}))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    exclude=DAILY_SELECTOR,
    pool=WAREHOUSE_POOL,
    name="dbt_marts",
)
def dbt_marts(context: dg.AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource):
    """The marts that are rebuilt whole after each daily run: month-end risk history and collections."""
    yield from dbt.cli([*BUILD, *FULL_REFRESH[config.full_refresh]], context=context).stream()
