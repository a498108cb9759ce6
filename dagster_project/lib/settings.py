"""Where the warehouse and the landing folders live: environment variables with checkout defaults.

Read when asked, never set: dbt's profile reads LENDING_WAREHOUSE with the same default (relative to
dbt/, where dbt always runs), so that the Python side and dbt write one file.
"""

import os
import sys
from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DBT_DIR = REPO / "dbt"
# dbt of this interpreter's environment, whether or not the venv is activated: the one used everywhere.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
# dbt with dbt-spark, in an environment of its own (scripts/setup_spark.sh, docs/spark.md).
SPARK_DBT_EXECUTABLE = REPO / ".venv-spark" / "bin" / "dbt"
ENGINES = ("duckdb", "spark")  # each the name of its dbt target (dbt/profiles.yml)
# The real month-end tape of ../shared (see its README), which the demo lands as uci_credit_card.
UCI_TAPE = REPO.parent / "shared" / "data" / "uci_credit_card" / "UCI_Credit_Card.csv"
UCI_MAPPING = REPO / "mappings" / "uci_credit_card.yaml"


def _path(variable: str, default: Path) -> Path:
    return Path(os.environ.get(variable) or default).resolve()


def engine() -> str:
    """Where dbt builds the models: "duckdb" (the default, the warehouse file) or "spark" (the dbt target of
    that name; the loader then also writes the raw layer as Parquet and the warehouse file reads Spark's
    tables through views: lib/raw_layer.py)."""
    name = os.environ.get("LENDING_ENGINE") or "duckdb"
    if name not in ENGINES:
        raise ValueError(f"LENDING_ENGINE is {name!r}: it must be one of {', '.join(ENGINES)}")
    return name


def spark_path() -> Path:
    """Spark's folder: its tables (warehouse/) and metastore, and the raw layer (raw/) the loader writes."""
    return _path("LENDING_SPARK_DIR", REPO / "data" / "spark")


def raw_layer_path() -> Path:
    """The raw layer Spark reads, written by the loader (lib/raw_layer.py); dbt_project.yml's on-run-start
    registers the same folder."""
    return spark_path() / "raw"


def warehouse_path() -> Path:
    return _path("LENDING_WAREHOUSE", REPO / "data" / "warehouse.duckdb")


def landing_path() -> Path:
    return _path("LENDING_LANDING", REPO / "data" / "landing")


def bi_path() -> Path:
    """What BI reads: the published DuckDB file and Parquet copies, replaced only after every check passed."""
    return _path("LENDING_BI", REPO / "data" / "bi")


def bi_recent_days() -> int:
    """Days of the loan x day marts that are published (and reconciled before publishing)."""
    return int(os.environ.get("LENDING_BI_RECENT_DAYS", "31"))


def tapes_path() -> Path:
    """Month-end tapes land here: <portfolio>.csv or .parquet, with <portfolio>.yaml beside it if the tape
    is in the source's own layout (a mapping, lib/mapping.py)."""
    return _path("LENDING_TAPES", REPO / "data" / "tapes")


def duckdb_config() -> dict[str, str]:
    """Settings for Python's own DuckDB connections, the same memory limit as dbt's profile."""
    return {"memory_limit": os.environ.get("LENDING_DUCKDB_MEMORY") or "3GB", "preserve_insertion_order": "false"}


@cache
def dbt_vars() -> dict:
    """The vars of dbt_project.yml: the one home of what a lender tunes, read by the Python side too."""
    return yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
