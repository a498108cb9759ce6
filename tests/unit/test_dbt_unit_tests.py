"""The SQL worked by hand: every dbt unit test, run once here rather than in every pipeline run."""

import json
import subprocess

import pytest

from dagster_project.lib.settings import DBT_DIR, DBT_EXECUTABLE
from dagster_project.pipeline import build_empty_daily_models, run_dbt
from tests.conftest import saved_parse_at, warehouse_at


@pytest.mark.slow
def test_every_dbt_unit_test_passes(tmp_path):
    target = str(saved_parse_at(tmp_path))
    with warehouse_at(tmp_path):
        build_empty_daily_models()
        # the inputs a unit test gives as rows are typed from the tables they stand for: create them (empty)
        run_dbt("build", "--quiet", "--exclude", "tag:daily", "--exclude-resource-type", "unit_test",
                "--exclude-resource-type", "test", target_path=target)
        result = subprocess.run([str(DBT_EXECUTABLE), "--no-use-colors", "test", "--select", "test_type:unit",
                                 "--profiles-dir", ".", "--target-path", target],
                                cwd=DBT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]
    unit_tests = json.loads((tmp_path / "target" / "manifest.json").read_text())["unit_tests"]
    assert len(unit_tests) >= 15
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    passed = [r["unique_id"] for r in results if r["unique_id"].startswith("unit_test.") and r["status"] == "pass"]
    assert len(passed) == len(unit_tests), result.stdout[-2000:]
