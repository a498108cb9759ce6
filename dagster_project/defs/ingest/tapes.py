import hashlib

import dagster as dg
import duckdb

from dagster_project.defs.partitions import WAREHOUSE_POOL
from dagster_project.lib.settings import duckdb_config, uci_tape_path, warehouse_path
from dagster_project.lib.tapes import TAPE_DDL, UCI_SHA256, load_tape, uci_credit_card_tape


@dg.asset(
    key=["core_lending", "month_end_tape"],
    group_name="ingest",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
)
def month_end_tape(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Month-end status tapes (history older than the daily ledgers): the UCI credit-card tape."""
    path = uci_tape_path()
    with duckdb.connect(str(warehouse_path()), config=duckdb_config()) as con:
        con.execute("create schema if not exists raw")
        con.execute(TAPE_DDL)
        if not path.exists():
            context.log.warning(f"No UCI tape at {path} (LENDING_UCI_TAPE): the tape portfolio stays as it was")
            return dg.MaterializeResult(metadata={"rows_loaded": 0})
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != UCI_SHA256:
            raise ValueError(f"{path}: sha256 {digest} is not the published UCI file's {UCI_SHA256}")
        rows = load_tape(con, uci_credit_card_tape(con, path))
    return dg.MaterializeResult(metadata={"rows_loaded": rows, "file": str(path)})
