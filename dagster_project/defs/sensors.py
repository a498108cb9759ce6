import datetime as dt

import dagster as dg

from dagster_project.defs.ingest.assets import LANDED_FILES
from dagster_project.defs.jobs import daily_ledgers_job, marts_job
from dagster_project.lib.settings import landing_path

COMPLETE_MARKER = "_SUCCESS"


def complete_days() -> list[str]:
    """Landing days whose folder holds the completion marker, in order."""
    root = landing_path()
    if not root.exists():
        return []
    days = []
    for folder in root.iterdir():
        try:
            dt.date.fromisoformat(folder.name)
        except ValueError:
            continue  # _truth/ and anything else that is not a day
        if (folder / COMPLETE_MARKER).exists():
            days.append(folder.name)
    return sorted(days)


@dg.sensor(job=daily_ledgers_job, minimum_interval_seconds=300)
def landed_day_sensor(context: dg.SensorEvaluationContext):
    """Starts the daily run of every complete landing folder (marker written last) whose day is not loaded
    yet, a day that arrives late included. The run key makes each day one run."""
    loaded = context.instance.get_materialized_partitions(LANDED_FILES)
    for day in complete_days():
        if day not in loaded:
            yield dg.RunRequest(run_key=day, partition_key=day)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_ledgers_job],
    request_job=marts_job,
    minimum_interval_seconds=60,
)
def marts_after_daily_run(context: dg.RunStatusSensorContext):
    """Every successful daily run is followed by one rebuild of the marts (and their publication)."""
    return dg.RunRequest(run_key=context.dagster_run.run_id)
