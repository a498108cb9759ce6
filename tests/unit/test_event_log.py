"""The Dagster instance's event log (dagster_project/event_log.py), as dagster_home/dagster.yaml configures it: a run
over several days records every day's materialization as Dagster's own storage does, the days of an asset
written together."""

import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage

from dagster_project import event_log
from dagster_project.pipeline import dagster_home_at

DAYS = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-01-11")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def ledger() -> None:
    """Stands in for a daily asset run over a range of days."""


def run_every_day(tmp_path, monkeypatch) -> tuple[dg.DagsterInstance, str]:
    """ledger over DAYS in one run, on an instance configured as dagster_home's, the days handed over together
    (as run_pipeline has Dagster do): the instance and the run's id."""
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home_at(tmp_path)))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_log.BATCH_SIZE)
    instance = dg.DagsterInstance.get()
    days = DAYS.get_partition_keys()
    result = dg.materialize([ledger], instance=instance, tags={"dagster/asset_partition_range_start": days[0],
                                                               "dagster/asset_partition_range_end": days[-1]})
    return instance, result.run_id


def test_a_run_over_several_days_records_every_day_written_together(tmp_path, monkeypatch):
    written_alone = []
    store_event = SqliteEventLogStorage.store_event

    def store_one(storage, event):
        if event.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            written_alone.append(event.dagster_event.partition)
        store_event(storage, event)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event", store_one)
    days = DAYS.get_partition_keys()
    instance, _ = run_every_day(tmp_path, monkeypatch)
    with instance:
        assert isinstance(instance.event_log_storage, event_log.BatchedSqliteEventLogStorage)
        assert instance.get_materialized_partitions(ledger.key) == set(days)
        assert instance.get_latest_materialization_event(ledger.key).dagster_event.partition == days[-1]
        one_day = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=ledger.key, asset_partitions=[days[4]]), limit=10).records
        assert [record.partition_key for record in one_day] == [days[4]]
    assert written_alone == []  # Dagster's own storage writes each day on its own, through store_event
    assert (tmp_path / "history" / "runs" / "index.db").exists()  # where Dagster's default keeps it


def test_a_batch_that_fails_is_written_again_one_event_at_a_time_without_duplicates(tmp_path, monkeypatch):
    """What a Dagster upgrade that changes the protected methods the batch calls would do: the batch raises,
    Dagster writes its events one at a time, and each day is recorded once, in the run's log and in the index."""
    store_asset_event = SqliteEventLogStorage._store_asset_event
    batches = []

    def fails_in_a_batch(storage, conn, event, event_id):
        materialization = event.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        if materialization and not batches:  # the first comes in the batch (the rest again, one at a time)
            batches.append(event)
            raise TypeError("as if an upgrade had changed this method")
        store_asset_event(storage, conn, event, event_id)

    monkeypatch.setattr(event_log.BatchedSqliteEventLogStorage, "_store_asset_event", fails_in_a_batch)
    instance, run_id = run_every_day(tmp_path, monkeypatch)
    with instance:
        logged = [event.dagster_event.partition for event in instance.all_logs(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)]
        indexed = instance.fetch_materializations(ledger.key, limit=100).records
    assert batches  # the batch was tried, and failed
    assert sorted(logged) == DAYS.get_partition_keys()
    assert sorted(record.partition_key for record in indexed) == DAYS.get_partition_keys()
