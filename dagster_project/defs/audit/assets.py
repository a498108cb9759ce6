import dagster as dg

from dagster_project.defs.partitions import WAREHOUSE_POOL
from dagster_project.defs.resources import Warehouse
from dagster_project.defs.transform.assets import dbt_daily_models, dbt_marts
from dagster_project.lib.quality import MARTS_CANDIDATE

MART_KEYS = [key for assets in (dbt_daily_models, dbt_marts) for key in assets.keys if key.path[0] == "marts"]


@dg.asset(key=list(MARTS_CANDIDATE), deps=MART_KEYS, pool=WAREHOUSE_POOL, group_name="publish")
def marts_candidate(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """The marts as built, waiting for their audit: the mart expectations are blocking checks on
    this asset, and the BI publication reads it only when they all passed."""
    with warehouse.connect(read_only=True) as con:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]
        rows = {mart: con.execute(f"select count(*) from marts.{mart}").fetchone()[0] for mart in marts}
    return dg.MaterializeResult(metadata={f"rows_{mart}": count for mart, count in rows.items()})
