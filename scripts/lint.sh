#!/usr/bin/env bash
# The linters CI runs before the tests: ruff (Python) and sqlfluff (the dbt models, dbt templater).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check dagster_project demo_book tests bench
# sqlfluff compiles the models with dbt, and some macros read the warehouse while compiling:
# lint against a scratch warehouse that has the raw tables and the seeds.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export LENDING_WAREHOUSE=$scratch/lint.duckdb DAGSTER_HOME=${DAGSTER_HOME:-$PWD/dagster_home}
.venv/bin/python -c "from dagster_project.pipeline import build_empty_daily_models, run_dbt
build_empty_daily_models()
run_dbt('seed', '--quiet', target_path='$scratch/target')  # the seeds the whole half reads too"
.venv/bin/sqlfluff lint dbt/models dbt/tests
