import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.defs.partitions import WAREHOUSE_POOL, daily_partitions
from dagster_project.defs.transform.project import dbt_project

DAILY_SELECTOR = "tag:daily"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=DAILY_SELECTOR,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    name="dbt_daily_models",
)
def dbt_daily_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Seeds, staging views and the incremental models, aged for the partition window [min_date, max_date).

    A backfill is one dbt run over the whole range.
    """
    window = context.partition_time_window
    dbt_vars = {"min_date": window.start.date().isoformat(), "max_date": window.end.date().isoformat()}
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()



@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=DAILY_SELECTOR,
    pool=WAREHOUSE_POOL,
    name="dbt_marts",
)
def dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """The marts that are rebuilt whole after each daily run: month-end risk history and collections."""
    yield from dbt.cli(["build"], context=context).stream()
