"""Where the warehouse and the landing folders live: environment variables with checkout defaults.

The defaults are exported, so that dbt (a subprocess, reading LENDING_WAREHOUSE in
dbt/profiles.yml) always writes the same file as the Python side.
"""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DBT_DIR = REPO / "dbt"

os.environ.setdefault("LENDING_WAREHOUSE", str(REPO / "data" / "warehouse.duckdb"))
os.environ.setdefault("LENDING_LANDING", str(REPO / "data" / "landing"))


def warehouse_path() -> Path:
    return Path(os.environ["LENDING_WAREHOUSE"]).resolve()


def landing_path() -> Path:
    return Path(os.environ["LENDING_LANDING"]).resolve()
