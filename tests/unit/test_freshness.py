import datetime as dt

import dagster as dg

from dagster_project.defs.audit.freshness import landed_day_freshness_checks
from dagster_project.defs.ingest.assets import LANDED_FILES, load_landed_ledgers
from dagster_project.defs.resources import Warehouse


def run_freshness_checks(instance):
    job = dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(*landed_day_freshness_checks))
    defs = dg.Definitions(assets=[load_landed_ledgers], asset_checks=landed_day_freshness_checks, jobs=[job],
                          resources={"warehouse": Warehouse()})
    result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    return [e.passed for e in result.get_asset_check_evaluations()]


def test_a_day_that_did_not_arrive_fails_the_freshness_check():
    instance = dg.DagsterInstance.ephemeral()
    assert run_freshness_checks(instance) == [False]
    today = dt.datetime.now(dt.UTC).date()
    for days_ago in (1, 2):  # whichever the deadline (09:00 UTC) makes the last day due
        day = (today - dt.timedelta(days=days_ago)).isoformat()
        instance.report_runless_asset_event(dg.AssetMaterialization(LANDED_FILES, partition=day))
    assert run_freshness_checks(instance) == [True]
