import os
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_HOME", str(Path(__file__).resolve().parents[1] / "dagster_home"))


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """Dagster reads the dbt manifest: parse once so that it matches the models on disk."""
    from dagster_project.cli import prepare_dbt

    prepare_dbt()


@contextmanager
def warehouse_at(folder: Path):
    """Point the pipeline at <folder>/warehouse.duckdb, <folder>/landing, <folder>/tapes and <folder>/bi for
    the duration."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LENDING_WAREHOUSE", str(folder / "warehouse.duckdb"))
        mp.setenv("LENDING_LANDING", str(folder / "landing"))
        mp.setenv("LENDING_BI", str(folder / "bi"))
        mp.setenv("LENDING_TAPES", str(folder / "tapes"))
        yield folder


def query(folder: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
