import dagster as dg

# Business days of the book. The demo book starts in 2025; a lender sets its own first day.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01")

# Everything that writes the DuckDB warehouse runs in this pool, limited to one at a time
# (dagster_home/dagster.yaml): DuckDB allows a single writer.
WAREHOUSE_POOL = "duckdb_warehouse"

# Month-end tapes: one partition per portfolio, added by the tape sensor as tapes land.
tape_portfolios = dg.DynamicPartitionsDefinition(name="tape_portfolios")
