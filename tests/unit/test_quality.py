"""The committed Great Expectations context is what lib/quality.py says it is."""

import json
from pathlib import Path

import yaml

from dagster_project.lib import quality
from dagster_project.lib.settings import REPO


def without_ids(value):
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in ("id", "data_context_id")}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def context_files(root: Path) -> dict:
    gx = root / "gx"
    files = {str(p.relative_to(gx)): without_ids(json.loads(p.read_text()))
             for folder in ("expectations", "validation_definitions")
             for p in sorted((gx / folder).glob("*.json"))}
    files["great_expectations.yml"] = without_ids(yaml.safe_load((gx / "great_expectations.yml").read_text()))
    return files


def test_committed_suites_and_validation_definitions_match_the_code(tmp_path):
    quality.write_context(tmp_path)
    expected = context_files(tmp_path)
    assert len(expected) == 2 * len(quality.SUITES) + 1
    assert context_files(REPO / "expectations") == expected, "run `lending expectations` and commit expectations/gx"


def test_every_suite_guards_an_asset_and_has_rules():
    for suite in quality.SUITES.values():
        assert suite.rules and suite.asset and suite.description
    assert {s.asset for s in quality.RAW_SUITES} >= {("core_lending", name) for name in quality.LEDGERS}


def test_old_validation_results_are_pruned_and_recent_ones_kept(tmp_path):
    import os
    import time

    old, recent = tmp_path / "validations" / "suite" / "old.json", tmp_path / "validations" / "suite" / "new.json"
    page = tmp_path / "data_docs" / "local_site" / "validations" / "old.html"
    for path in (old, recent, page):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    for path in (old, page):
        os.utime(path, (time.time() - 31 * 86_400,) * 2)
    quality._prune_results(tmp_path, keep_days=30)
    assert not old.exists() and not page.exists() and recent.exists()
