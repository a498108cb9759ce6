#!/usr/bin/env bash
# Every test: unit, integration (a generated book through Dagster and dbt), definitions.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The monitoring report and the Data Docs are checked in a real headless browser.
bash scripts/debian_package.sh chromium chromium "the report and Data Docs tests"
export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/dagster_home}
export GX_ANALYTICS_ENABLED=false
# Two workers (the machine has two cores); a test file, or a group of files (tests/conftest.py), in one.
exec .venv/bin/python -m pytest tests -p no:cacheprovider -W ignore::DeprecationWarning -n 2 --dist loadgroup \
  --durations=25 "$@"
