import dagster as dg

from dagster_project.defs.jobs import daily_ledgers_job, risk_marts_job

# Every morning: yesterday's partition (the schedule targets the last complete day).
daily_ledgers_schedule = dg.build_schedule_from_partitioned_job(daily_ledgers_job, hour_of_day=6, minute_of_hour=0)

# The month-end history marts after the first day of each month has been aged.
risk_marts_schedule = dg.ScheduleDefinition(job=risk_marts_job, cron_schedule="0 8 1 * *")
