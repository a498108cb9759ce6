import dagster as dg

from dagster_project.defs.ingest.assets import LANDED_FILES

# A day's ledgers must have landed and loaded by 09:00 UTC the next morning (the schedule runs at 06:00).
landed_day_freshness_checks = dg.build_time_partition_freshness_checks(
    assets=[LANDED_FILES], deadline_cron="0 9 * * *", timezone="UTC", severity=dg.AssetCheckSeverity.ERROR)

freshness_checks_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=landed_day_freshness_checks, minimum_interval_seconds=600)
