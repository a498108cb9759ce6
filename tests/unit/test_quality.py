"""The committed Great Expectations context is what lib/quality.py says it is, GX starts without scipy.stats, and a
frame is validated whole, an empty one included."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import yaml

from dagster_project.lib import quality
from dagster_project.lib.loader import create_raw_tables
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


def test_great_expectations_starts_without_scipy_stats_and_loads_it_on_use():
    """In a fresh process: the audit's context leaves scipy.stats unloaded, and it works when used."""
    script = ("import sys; from dagster_project.lib import quality; quality._context(); "
              "print('scipy.stats._stats_py' in sys.modules); "
              "from scipy import stats; print(stats.entropy([0.5, 0.5], [0.5, 0.5]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.splitlines() == ["False", "0.0"]


def test_old_validation_results_are_pruned_and_recent_ones_kept(tmp_path):
    old, recent = tmp_path / "validations" / "suite" / "old.json", tmp_path / "validations" / "suite" / "new.json"
    page = tmp_path / "data_docs" / "local_site" / "validations" / "old.html"
    for path in (old, recent, page):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    for path in (old, page):
        os.utime(path, (time.time() - 31 * 86_400,) * 2)
    quality._prune_results(tmp_path, keep_days=30)
    assert not old.exists() and not page.exists() and recent.exists()


def test_a_frame_read_in_several_chunks_is_validated_whole(monkeypatch):
    """Eight raw loans read two rows at a time: every chunk is validated and the failures of all chunks
    are added up, with the offending rows' keys as text."""
    day = dt.date(2025, 3, 1)
    con = duckdb.connect()
    create_raw_tables(con)
    for row, loan in enumerate(["L1", "L2", "L2", "L3", "L4", "L5", "L5", "L6"]):
        con.execute("insert into raw.loans (loan_id, _landing_date, _source_file, _source_row) values (?, ?, ?, ?)",
                    [loan, day, "loans.csv", row + 2])
    monkeypatch.setattr(quality, "CHUNK_ROWS", 2)
    result = quality.validate(con, quality.SUITES["raw_loans"], quality.raw_params(day, day))
    assert result.rows == 8
    [failure] = result.failures
    assert (failure.rule, failure.unexpected_count) == ("key_rows:between", 4)
    assert sorted(row["loan_id"] for row in failure.rows) == ["L2", "L2", "L5", "L5"]

    later = day + dt.timedelta(days=1)
    nothing_landed = quality.validate(con, quality.SUITES["raw_loans"], quality.raw_params(later, later))
    assert (nothing_landed.rows, nothing_landed.success) == (0, True)


def test_a_suite_whose_frame_has_no_rows_is_still_validated():
    """No raw table at all: the schema suite's frame is empty, and its rule (exactly the contract's columns)
    fails on it rather than passing for want of a frame."""
    result = quality.validate(duckdb.connect(), quality.SUITES["raw_schema"], {})
    assert (result.rows, result.success) == (0, False)
    assert [failure.rule for failure in result.failures] == ["column_type:distinct_set"]
