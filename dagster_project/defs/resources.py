import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging.version import Version

from dagster_project.defs.transform.project import dbt_project
from dagster_project.lib import settings


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse every asset and check reads or writes: its file, DuckDB's memory limit and a
    connection. Left empty, each comes from the environment (LENDING_WAREHOUSE, LENDING_DUCKDB_MEMORY,
    lib/settings.py), which dbt's profile reads too."""

    path: str = ""
    memory_limit: str = ""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # dbt, a subprocess of the run, finds the warehouse through the environment: a configured value
        # is handed on, so that dbt writes the file the assets read.
        for variable, value in (("LENDING_WAREHOUSE", self.path), ("LENDING_DUCKDB_MEMORY", self.memory_limit)):
            if value:
                os.environ[variable] = value

    @property
    def file(self) -> Path:
        return Path(self.path).resolve() if self.path else settings.warehouse_path()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        config = {**settings.duckdb_config(), **({"memory_limit": self.memory_limit} if self.memory_limit else {})}
        with duckdb.connect(str(self.file), read_only=read_only, config=config) as con:
            yield con


class DbtCli(DbtCliResource):
    """dagster-dbt's resource without two costs it pays on every dbt invocation of a run (3-4 s, most of a
    small day): running `dbt --version` for the version of the dbt installed beside it, and loading dbt's
    adapter in process, which only its column and row-count metadata fetchers use (not called here)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_for_engine() -> DbtCli:
    """dbt on the engine LENDING_ENGINE names: this environment's dbt on DuckDB, or .venv-spark's dbt with the
    target spark (profiles.yml; LENDING_DBT_TARGET picks a cluster's target, spark_thrift or spark_http)."""
    if settings.engine() == "duckdb":
        return DbtCli(project_dir=dbt_project, dbt_executable=str(settings.DBT_EXECUTABLE))
    if not settings.SPARK_DBT_EXECUTABLE.exists():
        raise FileNotFoundError(f"LENDING_ENGINE=spark needs dbt-spark in {settings.SPARK_DBT_EXECUTABLE.parent.parent}: "
                                "run `bash scripts/setup_spark.sh` first")
    return DbtCli(project_dir=dbt_project, dbt_executable=str(settings.SPARK_DBT_EXECUTABLE),
                  target=os.environ.get("LENDING_DBT_TARGET") or "spark")


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": dbt_for_engine(), "warehouse": Warehouse()})
