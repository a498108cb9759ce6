"""The Spark side of the warehouse file (lib/raw_layer.py): the raw layer the loader writes as Parquet,
and the views over the tables Spark built. Spark itself runs in scripts/spark_parity.py (CI)."""

import duckdb
import pytest

from dagster_project.lib import settings
from dagster_project.lib.loader import load_days
from dagster_project.lib.raw_layer import mirror_spark_tables, write_undated_files
from tests.landing import D, loan, pay, write_book

BOOK = [*loan("L1", "2024-01-10", ["2024-02-10"]), *loan("L2", "2024-01-11", ["2024-02-11"]),
        pay("P1", "L1", "2024-01-11", 10, 1)]
DAYS = [D("2024-01-10"), D("2024-01-11")]


def parquet_rows(con, folder, table) -> list[tuple]:
    return con.execute(f"select * from read_parquet('{folder / table}/**/*.parquet') order by all").fetchall()


def test_each_landed_day_is_a_folder_that_a_reload_replaces(tmp_path):
    write_book(tmp_path / "landing", DAYS[0], DAYS[1], BOOK)
    raw = tmp_path / "raw"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load_days(con, tmp_path / "landing", DAYS, raw_layer=raw)
        write_undated_files(con, raw)
        for table in ("loans", "repayment_schedule", "repayments", "write_offs"):
            assert parquet_rows(con, raw, table) == con.execute(f"select * from raw.{table} order by all").fetchall()
        assert sorted(p.name for p in (raw / "loans").iterdir()) == [
            "landing_date=2024-01-10", "landing_date=2024-01-11", "schema.parquet"]
        assert not list((raw / "write_offs").glob("landing_date=*"))  # no rows: only its columns
        assert parquet_rows(con, raw, "landed_files") == con.execute("select * from raw.landed_files order by all").fetchall()
        # 2024-01-11 delivered again without its loan and payment: its folders lose them, the other day stays
        write_book(tmp_path / "landing", DAYS[1], DAYS[1], [])
        load_days(con, tmp_path / "landing", [DAYS[1]], raw_layer=raw)
        assert parquet_rows(con, raw, "loans") == con.execute("select * from raw.loans order by all").fetchall()
        assert [r[0] for r in parquet_rows(con, raw, "loans")] == ["L1"]
        assert parquet_rows(con, raw, "repayments") == []
        assert not (raw / "repayments" / "landing_date=2024-01-11").exists()


def test_a_day_the_raw_layer_cannot_take_is_not_loaded_at_all(tmp_path):
    write_book(tmp_path / "landing", DAYS[0], DAYS[1], BOOK)
    (tmp_path / "raw").write_text("a file where the raw layer's folder should be")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load_days(con, tmp_path / "landing", DAYS[:1])
        with pytest.raises(OSError):
            load_days(con, tmp_path / "landing", DAYS[1:], raw_layer=tmp_path / "raw")
        assert con.execute("select loan_id from raw.loans").fetchall() == [("L1",)]
        assert con.execute("select distinct landing_date from raw.landed_files").fetchall() == [(DAYS[0],)]


def spark_table(con, folder, rows: str, partition: str | None = None) -> None:
    """A table as Spark writes it: Parquet files, in a folder per value of its partition column."""
    folder.mkdir(parents=True)
    options = f", partition_by ({partition})" if partition else ""
    con.execute(f"copy ({rows}) to '{folder}' (format parquet{options})" if partition
                else f"copy ({rows}) to '{folder}/part-00000.snappy.parquet' (format parquet)")


def test_the_warehouse_file_reads_sparks_tables_in_the_documented_column_order(tmp_path):
    spark = tmp_path / "warehouse"
    with duckdb.connect() as con:
        spark_table(con, spark / "marts.db" / "fct_daily",
                    "select 'L1' as loan_id, 3 as days_past_due, date '2024-01-10' as as_of_date", "as_of_date")
        spark_table(con, spark / "config.db" / "seed_versions", "select 'buckets' as seed, 'abc' as checksum")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        mirrored = mirror_spark_tables(con, spark, {"fct_daily": ["as_of_date", "loan_id", "days_past_due"]})
        assert sorted(mirrored) == ["config.seed_versions", "marts.fct_daily"]
        assert con.execute("select * from marts.fct_daily").fetchall() == [(D("2024-01-10"), "L1", 3)]
        assert [d[0] for d in con.execute("describe marts.fct_daily").fetchall()] == ["as_of_date", "loan_id", "days_past_due"]
        assert con.execute("select * from config.seed_versions").fetchall() == [("buckets", "abc")]


def test_a_warehouse_file_with_duckdb_marts_is_refused(tmp_path):
    spark = tmp_path / "warehouse"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        spark_table(con, spark / "marts.db" / "fct_daily", "select 1 as n")
        con.execute("create schema marts; create table marts.fct_daily as select 2 as n")
        with pytest.raises(RuntimeError, match="table marts.fct_daily built on DuckDB"):
            mirror_spark_tables(con, spark, {})
        assert con.execute("select n from marts.fct_daily").fetchall() == [(2,)]


def test_an_unknown_engine_is_refused(monkeypatch):
    monkeypatch.setenv("LENDING_ENGINE", "sparkk")
    with pytest.raises(ValueError, match="LENDING_ENGINE is 'sparkk': it must be one of duckdb, spark"):
        settings.engine()
