#!/usr/bin/env bash
# Every test: unit, integration (a generated book through Dagster and dbt), definitions.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/dagster_home}
export GX_ANALYTICS_ENABLED=false
exec .venv/bin/python -m pytest tests -p no:cacheprovider -W ignore::DeprecationWarning "$@"
