#!/usr/bin/env bash
# Every test: unit, integration (a generated book through Dagster and dbt), definitions.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The monitoring report is checked in a real headless browser: Debian's chromium.
if ! command -v chromium >/dev/null; then
  echo "Installing chromium (Debian package) for the report test ..."
  if [ "$(id -u)" = 0 ]; then APT=(apt-get); else APT=(sudo apt-get); fi
  "${APT[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -qq chromium >/dev/null
fi
export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/dagster_home}
export GX_ANALYTICS_ENABLED=false
# Two workers (the machine has two cores), a test file in one: its module fixtures are built once.
exec .venv/bin/python -m pytest tests -p no:cacheprovider -W ignore::DeprecationWarning -n 2 --dist loadfile \
  --durations=25 "$@"
