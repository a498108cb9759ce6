import dagster as dg

from dagster_project.defs.ingest.assets import load_landed_ledgers
from dagster_project.defs.partitions import daily_partitions
from dagster_project.defs.transform.assets import dbt_daily_models

daily_ledgers_job = dg.define_asset_job(
    "daily_ledgers_job",
    selection=dg.AssetSelection.assets(load_landed_ledgers, dbt_daily_models),
    partitions_def=daily_partitions,
    description="Load a day's (or a range's) ledgers and age the book for those days.",
)
