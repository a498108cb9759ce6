import dagster as dg

from dagster_project.defs.jobs import daily_ledgers_job

# Every morning: yesterday's partition (the schedule targets the last complete day).
daily_ledgers_schedule = dg.build_schedule_from_partitioned_job(daily_ledgers_job, hour_of_day=6, minute_of_hour=0)
