import dagster as dg

from dagster_project.defs.sensors import landed_day_sensor
from tests.conftest import warehouse_at


def test_sensor_requests_each_complete_day_once(tmp_path):
    with warehouse_at(tmp_path):
        landing = tmp_path / "landing"
        for day, complete in (("2025-03-01", True), ("2025-03-02", True), ("2025-03-03", False)):
            (landing / day).mkdir(parents=True)
            if complete:
                (landing / day / "_SUCCESS").touch()
        (landing / "_truth").mkdir()
        context = dg.build_sensor_context()
        requests = list(landed_day_sensor(context))
        assert [r.partition_key for r in requests] == ["2025-03-01", "2025-03-02"]  # 03-03 not complete yet
        assert context.cursor == "2025-03-02"
        assert list(landed_day_sensor(dg.build_sensor_context(cursor=context.cursor))) == []
        (landing / "2025-03-03" / "_SUCCESS").touch()
        later = list(landed_day_sensor(dg.build_sensor_context(cursor=context.cursor)))
        assert [r.partition_key for r in later] == ["2025-03-03"]
