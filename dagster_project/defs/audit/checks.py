"""Great Expectations suites as blocking asset checks: a failure stops everything downstream in
the run, so bad raw rows are not aged and bad marts are not published."""

import datetime as dt

import dagster as dg

from dagster_project.defs.partitions import WAREHOUSE_POOL
from dagster_project.defs.resources import Warehouse
from dagster_project.lib import gate, quality
from dagster_project.lib.publish import published_file
from dagster_project.lib.settings import bi_path


def _specs(suites) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(s.name, asset=list(s.asset), blocking=s.blocking, description=s.description)
            for s in suites]


def _validate(context, con, suites, params: dict, always_docs: bool) -> list[quality.Result]:
    """Validate the suites; rebuild the Data Docs when one failed, or always_docs (the publication's
    audit, which shows the day's raw results too: a rebuild costs seconds, so not on every day's pass)."""
    results = [quality.validate(con, suite, params) for suite in suites]
    if always_docs or not all(result.success for result in results):
        quality.build_data_docs()
    for result in results:
        (context.log.info if result.success else context.log.error)(result.summary())
    return results


def _check_results(suites, results: list[quality.Result]):
    for suite, result in zip(suites, results, strict=True):
        yield dg.AssetCheckResult(
            asset_key=list(suite.asset), check_name=suite.name, passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN,
            description=result.summary()[:2000],
            metadata={"rows_validated": result.rows, "failed_expectations": [f.rule for f in result.failures],
                      "data_docs": str(quality.DATA_DOCS)})


def run_window(tags: dict) -> tuple[dt.date, dt.date]:
    """First and last day of the run's partitions, from the tags Dagster gives a partitioned run."""
    if "dagster/partition" in tags:
        day = dt.date.fromisoformat(tags["dagster/partition"])
        return day, day
    return (dt.date.fromisoformat(tags["dagster/asset_partition_range_start"]),
            dt.date.fromisoformat(tags["dagster/asset_partition_range_end"]))


@dg.multi_asset_check(specs=_specs(quality.RAW_SUITES), name="raw_ledger_expectations", pool=WAREHOUSE_POOL)
def raw_ledger_expectations(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
    """The raw ledgers' rows landed in the run's window (and the raw tables' schema). The outcome is
    the window's days' "expectations" gate: a failed day blocks the aging of every later day."""
    first, last = run_window(context.run.tags)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    with warehouse.connect() as con:
        results = _validate(context, con, quality.RAW_SUITES, quality.raw_params(first, last), always_docs=False)
        failed = "; ".join(r.summary() for r in results if not r.success)
        released = gate.released_days(con)
        gate.record(con, "expectations", [d for d in days if d not in released], not failed,
                    failed[:2000] or "every raw suite passed")
    yield from _check_results(quality.RAW_SUITES, results)


@dg.multi_asset_check(specs=_specs(quality.MART_SUITES), name="mart_expectations", pool=WAREHOUSE_POOL)
def mart_expectations(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
    """What dbt's tests do not express: Pi's two methods agree, a loss where there is exposure, no day missing,
    no drift from the last publication past the seed's thresholds, no personal data."""
    # not read-only: without a publication yet, the drift suites compare with empty tables in memory
    with warehouse.connect() as con:
        quality.attach_publication(con, published_file(bi_path()))
        results = _validate(context, con, quality.MART_SUITES, {}, always_docs=True)
    yield from _check_results(quality.MART_SUITES, results)
