import dagster as dg

from dagster_project.defs.ingest.assets import load_landed_ledgers
from dagster_project.defs.partitions import daily_partitions
from dagster_project.defs.ingest.tapes import month_end_tape
from dagster_project.defs.transform.assets import dbt_daily_models, dbt_risk_marts

daily_ledgers_job = dg.define_asset_job(
    "daily_ledgers_job",
    selection=dg.AssetSelection.assets(load_landed_ledgers, dbt_daily_models),
    partitions_def=daily_partitions,
    description="Load a day's (or a range's) ledgers and age the book for those days.",
)

risk_marts_job = dg.define_asset_job(
    "risk_marts_job",
    selection=dg.AssetSelection.assets(month_end_tape, dbt_risk_marts),
    description="Load month-end tapes and rebuild the month-end history marts: roll rates, Pi, expected loss.",
)
