import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # each test worker validates in a copy of the GX context: every validation writes results and Data Docs
    _gx_copy = Path(tempfile.mkdtemp(prefix="gx-")) / "expectations"
    shutil.copytree(Path(__file__).resolve().parents[1] / "expectations", _gx_copy,
                    ignore=shutil.ignore_patterns("uncommitted"))
    os.environ["LENDING_GX_ROOT"] = str(_gx_copy)
os.environ.setdefault("DAGSTER_HOME", str(Path(__file__).resolve().parents[1] / "dagster_home"))


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """Dagster reads the dbt manifest: parse once so that it matches the models on disk (one worker at a
    time: they write the same target/)."""
    import fcntl

    from dagster_project.lib.settings import DBT_DIR
    from dagster_project.pipeline import prepare_dbt

    (DBT_DIR / "target").mkdir(exist_ok=True)
    with open(DBT_DIR / "target" / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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
