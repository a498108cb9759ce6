import dagster as dg

from dagster_project.defs.audit.assets import marts_candidate
from dagster_project.defs.partitions import WAREHOUSE_POOL
from dagster_project.defs.resources import Warehouse
from dagster_project.lib import quality
from dagster_project.lib.publish import publish, published_file
from dagster_project.lib.report import REPORT_DIR, write_report
from dagster_project.lib.settings import bi_path, bi_recent_days


@dg.asset(key=["bi", "lending_bi"], deps=[marts_candidate], pool=WAREHOUSE_POOL, group_name="publish",
          kinds={"duckdb", "parquet"})
def bi_publication(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """The marts as BI reads them: a separate DuckDB file and Parquet copies, replaced atomically.

    Runs only when every blocking check of marts_candidate (the mart expectations) passed in the run.
    """
    rows = publish(warehouse.file, bi_path(), bi_recent_days(), progress=context.log.info)
    return dg.MaterializeResult(metadata={
        "path": str(published_file(bi_path())), "marts": len(rows), "rows": sum(rows.values()),
        **{f"rows_{mart}": count for mart, count in rows.items()},
    })


@dg.asset(key=["bi", "monitoring_report"], deps=[bi_publication], group_name="publish", kinds={"html"})
def monitoring_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The static HTML monitoring report of the published file: overdue and roll-rate heatmaps, PAR, Pi,
    expected loss over time, vintage curves, collection KPIs and the top warning signals."""
    page = write_report(published_file(bi_path()), bi_path() / REPORT_DIR, quality_results=quality.DATA_DOCS)
    context.log.info(f"Monitoring report: {page}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page))})
