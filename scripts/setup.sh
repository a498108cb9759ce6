#!/usr/bin/env bash
# Create .venv with the pinned stack and parse the dbt project. Safe to run again: it
# reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..."
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "Installing the pinned stack into .venv (a few minutes the first time) ..."
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e '.[dev]'
  # dbt-core 1.12 cannot be built here and pip would fall back to 1.5 silently: insist on the pin.
  .venv/bin/python - <<'PY'
from importlib.metadata import version
assert version("dbt-core") == "1.11.16", version("dbt-core")
assert version("dagster") == "1.13.27", version("dagster")
PY
  rm -f .venv/.installed-*
  touch "$stamp"
fi

export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/dagster_home}
export GX_ANALYTICS_ENABLED=false
.venv/bin/dbt parse --quiet --project-dir dbt --profiles-dir dbt
