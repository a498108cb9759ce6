#!/usr/bin/env bash
# The Spark path, installed only when asked for (LENDING_ENGINE=spark, docs/spark.md): .venv-spark
# with dbt-spark in session mode and pyspark, and the Debian Java runtime where `java` is missing.
# pyspark stays out of .venv: Great Expectations imports it when present, and inside
# pytest-xdist's workers that import exits the process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/debian_package.sh java default-jre-headless Spark
if [ ! -x .venv-spark/bin/dbt ]; then
  echo "Creating .venv-spark with dbt-spark 1.11.0 (session) and pyspark 4.3.0 ..."
  python3.11 -m venv .venv-spark
  .venv-spark/bin/pip install --quiet 'dbt-core==1.11.16' 'dbt-spark[session]==1.11.0' 'pyspark==4.3.0'
fi
