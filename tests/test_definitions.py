import json
import os
import subprocess

import dagster as dg
import pytest
import yaml

from dagster_project import definitions
from dagster_project.defs.partitions import WAREHOUSE_POOL
from dagster_project.defs.transform.project import dbt_project
from dagster_project.lib.settings import DBT_DIR, DBT_EXECUTABLE, REPO


def test_definitions_load_with_the_expected_assets_jobs_and_checks():
    defs = definitions.defs()
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "core_lending/loans", "core_lending/repayment_schedule", "core_lending/repayments",
        "core_lending/collection_actions", "core_lending/borrower_events", "core_lending/write_offs",
        "core_lending/landed_files", "core_lending/landing_day_gate", "config/delinquency_buckets",
        "intermediate/int_repayment_schedules_accumulated", "marts/fct_loan_aging_daily",
        "marts/fct_loan_aging_monthly", "marts/fct_collection_kpis_daily", "marts/fct_warning_signals",
        "marts/fct_collection_quadrants", "marts/fct_collection_escalation_lapses",
        "audit/marts_candidate", "bi/lending_bi", "core_lending/month_end_tape",
    } <= keys
    checks = {key.name for key in graph.asset_check_keys}
    assert {"aging_active_loans_have_a_bucket", "aging_overdue_iff_days_past_due",
            "bucket_edges_are_contiguous_delinquency_buckets_", "no_row_quarantined", "raw_schema", "raw_repayments",
            "mart_bad_debt_probability", "mart_drift", "mart_drift_warning", "marts_without_personal_data",
            "no_landing_day_missing", "no_landing_day_failed", "assert_overdue_matrix_reconciles_with_aging",
            "assert_expected_loss_total_is_the_sum_of_its_parts", "freshness_check"} <= checks
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert {groups[key] for key in ("config/delinquency_buckets", "config/warning_rules")} == {"config"}
    assert all(graph.get(key).partitions_def is None for key in graph.get_all_asset_keys() if key.path[0] == "config")
    assert groups["marts/fct_loan_aging_daily"] == groups["marts/dim_loans"] == "aging"
    assert groups["marts/fct_overdue_matrix"] == groups["intermediate/int_loan_month_end_states"] == "risk"
    assert groups["marts/fct_warning_signals"] == groups["intermediate/int_collection_promises_resolved"] == "collections"
    gx_checks = [key for key in graph.asset_check_keys if key.name.startswith(("raw_", "mart"))]
    assert gx_checks and all(graph.get_check_spec(key).blocking == (key.name != "mart_drift_warning")
                             for key in gx_checks)
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"config_job", "daily_ledgers_job", "tape_job", "marts_job", "publish_job"} <= jobs
    assert {s.name for s in defs.schedules} >= {"daily_ledgers_job_schedule"}
    assert {"config_changed_sensor", "landed_day_sensor", "landed_tape_sensor", "marts_after_daily_run",
            "freshness_checks_sensor"} <= {s.name for s in defs.sensors}


def test_daily_assets_are_partitioned_single_run_backfills_in_the_warehouse_pool():
    defs = definitions.defs()
    for name in ("load_landed_ledgers", "dbt_daily_models"):
        assets = next(a for a in defs.resolve_asset_graph().assets_defs if a.node_def.name == name)
        assert isinstance(assets.partitions_def, dg.DailyPartitionsDefinition)
        assert assets.backfill_policy == dg.BackfillPolicy.single_run()
        assert assets.node_def.pool == WAREHOUSE_POOL


LAYERS = ("staging", "core", "intermediate", "marts")


def _layer_and_half(node: dict) -> tuple[int, str]:
    parts = node["original_file_path"].split("/")  # models/<half>/<layer>/... or models/staging/...
    if parts[1] == "staging":
        return 0, "daily"
    return LAYERS.index(parts[2]), parts[1]


def test_dbt_models_read_one_way():
    """staging -> core -> intermediate -> marts, and a daily model never reads one rebuilt whole."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = {key: node for key, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    backwards = []
    for node in models.values():
        layer, half = _layer_and_half(node)
        for parent in node["depends_on"]["nodes"]:
            if parent in models:
                parent_layer, parent_half = _layer_and_half(models[parent])
                if parent_layer > layer or (half == "daily" and parent_half == "whole"):
                    backwards.append(f"{node['name']} reads {models[parent]['name']}")
        prefixes = {0: ("stg_",), 1: ("fct_", "dim_", "int_"), 2: ("int_",), 3: ("fct_",)}[layer]
        assert node["name"].startswith(prefixes), f"{node['name']} is in {LAYERS[layer]}"
    assert backwards == []
    assert len(models) > 30


def test_every_dbt_test_runs_with_the_half_that_builds_its_parents():
    """A test between a daily node and one rebuilt whole would run with the day (dbt selects a test with
    any of its parents) before the whole one is built: every test's parents are in one half (the seeds,
    loaded before either, aside)."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    nodes = {**manifest["nodes"], **manifest["sources"]}
    split = []
    for test in (n for n in manifest["nodes"].values() if n["resource_type"] == "test"):
        halves = {"daily" in nodes[parent]["tags"] for parent in test["depends_on"]["nodes"]
                  if not parent.startswith(("source.", "seed."))}
        if len(halves) > 1:
            split.append(test["name"])
    assert split == []


@pytest.mark.slow
def test_the_seeds_load_after_a_parse_from_the_repository_root(tmp_path):
    """setup.sh parses with --project-dir dbt from the root; Dagster then runs dbt from dbt/. A seed
    loaded through a path relative to the parse (dbt-duckdb's fast COPY) is not found there."""
    target = str(tmp_path / "target")
    env = {**os.environ, "LENDING_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    subprocess.run([str(DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", "dbt", "--profiles-dir", "dbt",
                    "--target-path", target], cwd=REPO, env=env, check=True)
    seeded = subprocess.run([str(DBT_EXECUTABLE), "seed", "--profiles-dir", ".", "--target-path", target],
                            cwd=DBT_DIR, env=env, capture_output=True, text=True)
    assert seeded.returncode == 0, seeded.stdout[-2000:]


def test_neither_dagster_nor_dbt_sends_usage_data():
    """docs/decisions.md: no usage data leaves the lender's machines (Great Expectations' analytics are
    switched off where it is imported, lib/quality.py)."""
    assert yaml.safe_load((REPO / "dagster_home" / "dagster.yaml").read_text())["telemetry"]["enabled"] is False
    manifest = json.loads(dbt_project.manifest_path.read_text())
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
