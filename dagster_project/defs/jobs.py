import dagster as dg

from dagster_project.defs.audit.assets import marts_candidate
from dagster_project.defs.audit.freshness import landed_day_freshness_checks
from dagster_project.defs.ingest.assets import load_landed_ledgers
from dagster_project.defs.ingest.tapes import month_end_tape
from dagster_project.defs.partitions import daily_partitions, tape_portfolios
from dagster_project.defs.publish.assets import bi_publication, monitoring_report
from dagster_project.defs.transform.assets import dbt_daily_models, dbt_marts, dbt_seeds

config_job = dg.define_asset_job(
    "config_job",
    selection=dg.AssetSelection.assets(dbt_seeds),
    description="Load the configuration seeds (the daily and marts runs refuse a warehouse whose seeds differ "
                "from the files).",
)

daily_ledgers_job = dg.define_asset_job(
    "daily_ledgers_job",
    # the freshness check looks at the calendar, not at the run: it runs from its own sensor
    selection=dg.AssetSelection.assets(load_landed_ledgers, dbt_daily_models)
    - dg.AssetSelection.checks(*landed_day_freshness_checks),
    partitions_def=daily_partitions,
    description="Load a day's (or a range's) ledgers, validate them and age the book for those days.",
)

tape_job = dg.define_asset_job(
    "tape_job",
    selection=dg.AssetSelection.assets(month_end_tape),
    partitions_def=tape_portfolios,
    description="Load a portfolio's month-end tape from the tapes landing folder (replacing that portfolio).",
)

marts_job = dg.define_asset_job(
    "marts_job",
    selection=dg.AssetSelection.assets(dbt_marts, marts_candidate, bi_publication, monitoring_report),
    description="Rebuild the risk and collections marts, validate every mart, "
                "publish them to BI if all passed and render the monitoring report.",
)

publish_job = dg.define_asset_job(
    "publish_job",
    selection=dg.AssetSelection.assets(marts_candidate, bi_publication, monitoring_report),
    description="Validate the marts as they are and publish them to BI if all passed (no rebuild).",
)
