#!/usr/bin/env bash
# Generate a demo book (80,000 loans, 18 months) and run the whole pipeline on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/dagster_home}
export GX_ANALYTICS_ENABLED=false
exec .venv/bin/lending demo "$@"
