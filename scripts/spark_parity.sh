#!/usr/bin/env bash
# The whole pipeline on DuckDB and on local Spark, compared row for row (scripts/spark_parity.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_spark.sh
folder=${1:-$PWD/data/spark_parity}
rm -rf "$folder"
exec .venv/bin/python scripts/spark_parity.py "$folder"
