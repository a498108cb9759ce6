import dagster as dg

from dagster_project.defs.partitions import WAREHOUSE_POOL, tape_portfolios
from dagster_project.defs.resources import Warehouse
from dagster_project.lib.settings import tapes_path
from dagster_project.lib.tapes import load_landed_tape


@dg.asset(
    key=["core_lending", "month_end_tape"],
    group_name="ingest",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    partitions_def=tape_portfolios,
)
def month_end_tape(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """A month-end status tape (history older than the daily ledgers) from the tapes landing folder,
    one partition per portfolio: validated, quarantined where it breaks the tape contract, and
    replacing that portfolio only."""
    portfolio = context.partition_key
    with warehouse.connect() as con:
        loaded = load_landed_tape(con, tapes_path(), portfolio)
    context.log.info(loaded.report())
    if loaded.quarantined:
        context.log.warning(f"{loaded.quarantined} row(s) of tape {portfolio} quarantined (raw.quarantine)")
    return dg.MaterializeResult(metadata={
        "file": loaded.source, "rows_loaded": loaded.rows, "accounts": loaded.accounts,
        "rows_quarantined": loaded.quarantined, "accounts_with_gaps": loaded.accounts_with_gaps,
        "missing_month_ends": loaded.missing_month_ends})
