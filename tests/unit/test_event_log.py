"""The Dagster instance's event log (dagster_project/event_log.py), as dagster_home/dagster.yaml configures it: a run
over several days records every day's materialization as Dagster's own storage does, the days of an asset
written together."""

import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage

from dagster_project import event_log
from tests.conftest import dagster_home_at

DAYS = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-01-11")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def ledger() -> None:
    """Stands in for a daily asset run over a range of days."""


def test_a_run_over_several_days_records_every_day_written_together(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home_at(tmp_path)))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_log.BATCH_SIZE)  # as run_pipeline sets it
    written_alone = []
    store_event = SqliteEventLogStorage.store_event

    def store_one(storage, event):
        if event.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            written_alone.append(event.dagster_event.partition)
        store_event(storage, event)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event", store_one)
    days = DAYS.get_partition_keys()
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, event_log.BatchedSqliteEventLogStorage)
        dg.materialize([ledger], instance=instance, tags={"dagster/asset_partition_range_start": days[0],
                                                           "dagster/asset_partition_range_end": days[-1]})
        assert instance.get_materialized_partitions(ledger.key) == set(days)
        assert instance.get_latest_materialization_event(ledger.key).dagster_event.partition == days[-1]
        one_day = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=ledger.key, asset_partitions=[days[4]]), limit=10).records
        assert [record.partition_key for record in one_day] == [days[4]]
    assert written_alone == []  # Dagster's own storage writes each day on its own, through store_event
    assert (tmp_path / "history" / "runs" / "index.db").exists()  # where Dagster's default keeps it
