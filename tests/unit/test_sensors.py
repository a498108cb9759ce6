import json

import dagster as dg

from dagster_project.defs.ingest.assets import LANDED_FILES
from dagster_project.defs.sensors import config_changed_sensor, landed_day_sensor, landed_tape_sensor
from dagster_project.defs.transform import assets
from tests.conftest import warehouse_at


def test_sensor_requests_each_complete_day_not_loaded_yet_late_ones_included(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    with warehouse_at(tmp_path, seeded=False):
        landing = tmp_path / "landing"
        for day, complete in (("2025-03-01", True), ("2025-03-02", True), ("2025-03-04", True),
                              ("2025-03-05", False)):
            (landing / day).mkdir(parents=True)
            if complete:
                (landing / day / "_SUCCESS").touch()
        (landing / "_truth").mkdir()

        def requested():
            return [r.partition_key for r in landed_day_sensor(dg.build_sensor_context(instance=instance))]

        assert requested() == ["2025-03-01", "2025-03-02", "2025-03-04"]  # 03-05 is not complete yet
        for day in ("2025-03-01", "2025-03-02", "2025-03-04"):
            instance.report_runless_asset_event(dg.AssetMaterialization(LANDED_FILES, partition=day))
        assert requested() == []
        (landing / "2025-03-03").mkdir()  # the day that arrived late
        (landing / "2025-03-03" / "_SUCCESS").touch()
        (landing / "2025-03-05" / "_SUCCESS").touch()
        assert requested() == ["2025-03-03", "2025-03-05"]


def test_folders_that_are_not_days_are_skipped_and_remembered(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    with warehouse_at(tmp_path, seeded=False):
        landing = tmp_path / "landing"
        for name in ("20250322", "2025-W12-6", "2025-03-22", "2025-02-30"):
            (landing / name).mkdir(parents=True)
            (landing / name / "_SUCCESS").touch()
        context = dg.build_sensor_context(instance=instance)
        assert [r.partition_key for r in landed_day_sensor(context)] == ["2025-03-22"]
        # reported once: the cursor remembers what was logged
        assert json.loads(context.cursor) == ["2025-02-30", "2025-W12-6", "20250322"]


def test_tape_sensor_loads_each_new_or_changed_tape_as_its_portfolios_partition(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    with warehouse_at(tmp_path, seeded=False):
        tapes = tmp_path / "tapes"
        tapes.mkdir()
        (tapes / "bank_a.csv").write_text("portfolio\n")
        (tapes / "bank_b.parquet").write_bytes(b"")
        (tapes / "notes.txt").write_text("not a tape")
        result = landed_tape_sensor(dg.build_sensor_context(instance=instance))
        assert [r.partition_key for r in result.run_requests] == ["bank_a", "bank_b"]
        assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["bank_a", "bank_b"]]
        keys = {r.partition_key: r.run_key for r in result.run_requests}
        instance.add_dynamic_partitions("tape_portfolios", ["bank_a", "bank_b"])
        (tapes / "bank_a.yaml").write_text("contract: month_end_tape\n")  # a mapping arrives: load bank_a again
        again = landed_tape_sensor(dg.build_sensor_context(instance=instance))
        assert again.dynamic_partitions_requests[0].partition_keys == []
        changed = {r.partition_key: r.run_key for r in again.run_requests}
        assert changed["bank_b"] == keys["bank_b"] and changed["bank_a"] != keys["bank_a"]



def test_config_sensor_loads_the_seeds_again_when_a_seed_file_changes(monkeypatch):
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())
    first = config_changed_sensor(context).run_key
    assert config_changed_sensor(context).run_key == first  # one run per version of the files
    edited = {**assets.seed_checksums(), "delinquency_buckets": "edited"}
    monkeypatch.setattr(assets, "seed_checksums", lambda: edited)
    assert config_changed_sensor(context).run_key != first
