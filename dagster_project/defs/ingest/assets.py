import datetime as dt

import dagster as dg

from dagster_project.defs.partitions import WAREHOUSE_POOL, daily_partitions
from dagster_project.defs.resources import Warehouse
from dagster_project.lib import settings
from dagster_project.lib.contract import LEDGERS
from dagster_project.lib.gate import blocked_days
from dagster_project.lib.loader import load_days
from dagster_project.lib.restatement import missing_days

LANDED_FILES = dg.AssetKey(["core_lending", "landed_files"])
ALLOW_INCOMPLETE_TAG = "lending/allow_incomplete"  # "true": load days without their completion marker


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["core_lending", name], description=ledger.description, group_name="ingest", kinds={"duckdb"})
        for name, ledger in LEDGERS.items()
    ]
    + [dg.AssetSpec(["core_lending", "landed_files"], description="One row per ledger file loaded.",
                    group_name="ingest", kinds={"duckdb"}),
       dg.AssetSpec(["core_lending", "landing_day_gate"], group_name="ingest", kinds={"duckdb"},
                    description="Per landing day and gate (contract, expectations, release) its decision; rows of "
                                "a failed, unreleased day never reach the models.")],
    check_specs=[
        dg.AssetCheckSpec(
            "no_row_quarantined", asset=["core_lending", "landed_files"],
            description="Rows that broke the ledger contract went to raw.quarantine (a warning, not a stop)."),
        dg.AssetCheckSpec(
            "no_landing_day_missing", asset=["core_lending", "landed_files"], blocking=True,
            description="Every day from the first landed one up to the run's last has landed; a gap stops the "
                        "aging until the missing day arrives (its run then ages every later landed day)."),
        dg.AssetCheckSpec(
            "no_landing_day_failed", asset=["core_lending", "landed_files"], blocking=True,
            description="No day up to the run's last failed the gate (a loan's rows held back under the "
                        "policy 'block', or the raw expectations) without being released; such a day stops the "
                        "aging until it is delivered again or released with `lending release-day`."),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    name="load_landed_ledgers",
)
def load_landed_ledgers(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Load the partition window's landing folders into raw.<ledger>, all ledgers in one transaction."""
    window = context.partition_time_window
    days = [window.start.date() + dt.timedelta(days=i) for i in range((window.end - window.start).days)]
    allow_incomplete = context.run.tags.get(ALLOW_INCOMPLETE_TAG) == "true"
    context.log.info(f"Loading {len(days)} day(s) {days[0]} .. {days[-1]} from {settings.landing_path()}")
    with warehouse.connect() as con:
        loaded = load_days(con, settings.landing_path(), days, allow_incomplete=allow_incomplete,
                           raw_layer=settings.raw_layer_path() if settings.engine() == "spark" else None)
        missing = missing_days(con, days[-1])
        blocked = blocked_days(con, days[-1])
    if missing:
        context.log.error(f"{len(missing)} day(s) never landed: {', '.join(map(str, missing[:20]))}")
    if blocked:
        context.log.error(f"{len(blocked)} day(s) failed the gate: " + "; ".join(f"{d}: {why}" for d, why in blocked[:5]))
    if sum(loaded.quarantined.values()):
        context.log.warning(loaded.report())
    for name, rows in loaded.rows.items():
        yield dg.MaterializeResult(asset_key=["core_lending", name],
                                   metadata={"rows_loaded": rows, "rows_quarantined": loaded.quarantined[name],
                                             "rows_held_back": loaded.held[name]})
    yield dg.MaterializeResult(asset_key=["core_lending", "landing_day_gate"],
                               metadata={"failed_days": [str(d) for d, _ in blocked]})
    yield dg.MaterializeResult(
        asset_key=["core_lending", "landed_files"],
        metadata={"days_loaded": len(days), "rows_quarantined": sum(loaded.quarantined.values()),
                  "rows_held_back": sum(loaded.held.values())},
        check_results=[dg.AssetCheckResult(
            check_name="no_row_quarantined", passed=not sum(loaded.quarantined.values()),
            severity=dg.AssetCheckSeverity.WARN, metadata={"rows_quarantined": sum(loaded.quarantined.values())},
            description=loaded.report()),
            dg.AssetCheckResult(
                check_name="no_landing_day_missing", passed=not missing, severity=dg.AssetCheckSeverity.ERROR,
                metadata={"missing_days": [str(d) for d in missing]},
                description=f"{len(missing)} day(s) never landed" if missing else "no day missing"),
            dg.AssetCheckResult(
                check_name="no_landing_day_failed", passed=not blocked, severity=dg.AssetCheckSeverity.ERROR,
                metadata={"failed_days": [str(d) for d, _ in blocked]},
                description=(f"{len(blocked)} day(s) failed the gate, first {blocked[0][0]}: {blocked[0][1]}"[:2000]
                             + ". Deliver it again, or release it with `lending release-day`") if blocked
                else "no day failed"),
        ],
    )
