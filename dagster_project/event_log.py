"""Dagster's SQLite event log, writing the days of a run over several days together.

A run over a range of daily partitions records a materialization per asset and day: 4,745 for a
year of the daily job. Dagster's SQLite storage writes each one on its own, in a transaction in the
run's file and another in the index, about 7 ms apiece: a year's backfill of 100,000 loans took
136.9 s, 100.7 s with this storage (docs/benchmark.md). With DAGSTER_EVENT_BATCH_SIZE set, Dagster
hands the days of one asset over as one batch, but only its Postgres storage writes a batch at once
(upstream deferred SQLite). This storage writes it in one transaction per file, the same rows as one
at a time. The pipeline sets DAGSTER_EVENT_BATCH_SIZE for a run over several days
(pipeline.run_pipeline); dagster_home/dagster.yaml selects this storage.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster._config import StringSource
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.ref import _event_logs_directory
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster._serdes import ConfigurableClassData

BATCH_SIZE = "1000"  # DAGSTER_EVENT_BATCH_SIZE for a run over several days: events of one asset per write
WRITTEN_TOGETHER = ({DagsterEventType.ASSET_MATERIALIZATION}, {DagsterEventType.ASSET_OBSERVATION})


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage in the instance folder's usual place (<dagster_home>/history/runs), whose
    batches of materializations (or observations) of one run are written in one transaction per file."""

    @classmethod
    def config_type(cls):
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> BatchedSqliteEventLogStorage:
        return cls(_event_logs_directory(config_value["dagster_home"]), inst_data=inst_data)  # where Dagster puts it

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        kinds = {event.get_dagster_event().event_type for event in events}
        if kinds not in WRITTEN_TOGETHER or len({event.run_id for event in events}) > 1:
            super().store_event_batch(events)  # one at a time, as Dagster does
            return
        # what store_event writes for each, the index first: a batch that fails there (Dagster's protected methods
        # changed) has written nothing, and Dagster writes its events again one at a time without duplicates
        with self.index_transaction() as conn:
            event_ids = []
            for event in events:
                with db_result(conn, self.prepare_insert_event(event)) as result:
                    event_ids.append(result.inserted_primary_key[0])
            self._store_asset_event_tags(conn, events, event_ids)
            for event, event_id in zip(events, event_ids, strict=True):
                self._store_asset_event(conn, event, event_id)
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(self.prepare_insert_event_batch(events))
