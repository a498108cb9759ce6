"""Where the warehouse and the landing folders live: environment variables with checkout defaults.

The defaults are exported, so that dbt (a subprocess, reading LENDING_WAREHOUSE in
dbt/profiles.yml) always writes the same file as the Python side.
"""

import os
from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DBT_DIR = REPO / "dbt"

os.environ.setdefault("LENDING_WAREHOUSE", str(REPO / "data" / "warehouse.duckdb"))
os.environ.setdefault("LENDING_LANDING", str(REPO / "data" / "landing"))
# What BI reads: the published DuckDB file and Parquet copies, replaced only after every check passed.
os.environ.setdefault("LENDING_BI", str(REPO / "data" / "bi"))
# Month-end tapes land here: <portfolio>.csv or .parquet, with <portfolio>.yaml beside it if the
# tape is in the source's own layout (a mapping, lib/mapping.py).
os.environ.setdefault("LENDING_TAPES", str(REPO / "data" / "tapes"))
# The real month-end tape of ../shared (see its README), which the demo lands as uci_credit_card.
UCI_TAPE = REPO.parent / "shared" / "data" / "uci_credit_card" / "UCI_Credit_Card.csv"
UCI_MAPPING = REPO / "mappings" / "uci_credit_card.yaml"


def warehouse_path() -> Path:
    return Path(os.environ["LENDING_WAREHOUSE"]).resolve()


def landing_path() -> Path:
    return Path(os.environ["LENDING_LANDING"]).resolve()


def bi_path() -> Path:
    return Path(os.environ["LENDING_BI"]).resolve()


def bi_recent_days() -> int:
    """Days of the loan x day marts that are published (and reconciled before publishing)."""
    return int(os.environ.get("LENDING_BI_RECENT_DAYS", "31"))


def tapes_path() -> Path:
    return Path(os.environ["LENDING_TAPES"]).resolve()


def duckdb_config() -> dict[str, str]:
    """Settings for Python's own DuckDB connections, the same memory limit as dbt's profile."""
    return {"memory_limit": os.environ.get("LENDING_DUCKDB_MEMORY", "3GB"), "preserve_insertion_order": "false"}


@cache
def dbt_vars() -> dict:
    """The vars of dbt_project.yml: the one home of what a lender tunes, read by the Python side too."""
    return yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
