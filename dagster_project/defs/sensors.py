import datetime as dt
import json
import re

import dagster as dg

from dagster_project.defs.ingest.assets import LANDED_FILES
from dagster_project.defs.jobs import config_job, daily_ledgers_job, marts_job, tape_job
from dagster_project.defs.partitions import tape_portfolios
from dagster_project.defs.transform.assets import seeds_signature
from dagster_project.lib.loader import COMPLETE_MARKER, MAPPINGS_FOLDER
from dagster_project.lib.settings import landing_path, tapes_path
from dagster_project.lib.tapes import landed_tapes

DAY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")


def landing_folders() -> tuple[list[str], list[str]]:
    """(complete days, other folders): folders named YYYY-MM-DD (a real date) that hold the completion
    marker, in order; and the names of folders that are not days (_truth/ and anything else)."""
    root = landing_path()
    if not root.exists():
        return [], []
    days, others = [], []
    for folder in (f for f in root.iterdir() if f.is_dir()):
        try:
            is_day = bool(DAY_FOLDER.fullmatch(folder.name)) and bool(dt.date.fromisoformat(folder.name))
        except ValueError:
            is_day = False
        if not is_day:
            others.append(folder.name)
        elif (folder / COMPLETE_MARKER).exists():
            days.append(folder.name)
    return sorted(days), sorted(others)


@dg.sensor(job=config_job, minimum_interval_seconds=300)
def config_changed_sensor(context: dg.SensorEvaluationContext):
    """Loads the configuration seeds once per version of the seed files (and once on a new deployment):
    the run key is their checksums, which change when dbt parses an edited seed."""
    return dg.RunRequest(run_key=seeds_signature())


@dg.sensor(job=daily_ledgers_job, minimum_interval_seconds=300)
def landed_day_sensor(context: dg.SensorEvaluationContext):
    """Starts the daily run of every complete landing folder (marker written last) whose day is not loaded
    yet, a day that arrives late included. The run key makes each day one run. A folder that is not a
    day (only YYYY-MM-DD is) is logged once and skipped."""
    days, others = landing_folders()
    reported = set(json.loads(context.cursor)) if context.cursor else set()
    for name in sorted(set(others) - reported - {"_truth", MAPPINGS_FOLDER}):
        context.log.warning(f"landing folder {name!r} is not a day (YYYY-MM-DD): skipped")
    context.update_cursor(json.dumps(sorted(reported | set(others))))
    loaded = context.instance.get_materialized_partitions(LANDED_FILES)
    for day in days:
        if day not in loaded:
            yield dg.RunRequest(run_key=day, partition_key=day)


def tape_signature(path) -> str:
    """Changes when the tape or its mapping changes: a new run key, so the tape is loaded again."""
    files = [path, path.with_suffix(".yaml")]
    return ";".join(f"{f.name}:{f.stat().st_mtime_ns}:{f.stat().st_size}" for f in files if f.exists())


@dg.sensor(job=tape_job, minimum_interval_seconds=300)
def landed_tape_sensor(context: dg.SensorEvaluationContext):
    """Loads every tape of the tapes landing folder that is new or changed (or whose mapping changed),
    each portfolio a partition of its own."""
    tapes = landed_tapes(tapes_path())
    known = set(context.instance.get_dynamic_partitions(tape_portfolios.name))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"{portfolio}@{tape_signature(path)}", partition_key=portfolio)
                      for portfolio, path in tapes.items()],
        dynamic_partitions_requests=[tape_portfolios.build_add_request(sorted(set(tapes) - known))],
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_ledgers_job, tape_job],
    request_job=marts_job,
    minimum_interval_seconds=60,
)
def marts_after_daily_run(context: dg.RunStatusSensorContext):
    """Every successful daily or tape run is followed by one rebuild of the marts (and their publication)."""
    return dg.RunRequest(run_key=context.dagster_run.run_id)
