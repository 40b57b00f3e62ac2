"""In-memory event store: the same contract as DynamoDB, for unit tests and benchmarks."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from payments_shared.eventstore.port import (
    MAX_ITEMS_PER_APPEND,
    ConcurrencyConflict,
    DuplicateRecord,
    ExtraWrite,
    IncrementRecord,
    NewEvent,
    PutRecord,
    Snapshot,
    StoredEvent,
    StreamSlice,
    UpdateRecord,
)


def _record_key(key: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(key.items()))


class InMemoryEventStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[str, list[StoredEvent]] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._records: dict[str, dict[tuple[tuple[str, Any], ...], dict[str, Any]]] = {}
        self._subscribers: list[Callable[[StoredEvent], None]] = []

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        extra_writes: Sequence[ExtraWrite] = (),
        snapshot: Snapshot | None = None,
    ) -> list[StoredEvent]:
        # Count items as DynamoDB does: the version check on an existing stream is an item too.
        check = 1 if events and expected_version > 0 else 0
        if len(events) + len(extra_writes) + (snapshot is not None) + check > MAX_ITEMS_PER_APPEND:
            raise ValueError(f"an append writes at most {MAX_ITEMS_PER_APPEND} items")
        with self._lock:
            stream = self._streams.get(stream_id, [])
            current = stream[-1].version if stream else 0
            if events and current != expected_version:
                raise ConcurrencyConflict(stream_id, expected_version)
            for write in extra_writes:
                taken = _record_key(write.key) in self._records.get(write.table, {})
                if isinstance(write, PutRecord) and write.only_if_absent and taken:
                    raise DuplicateRecord(write.table, write.key)
            stored = [
                StoredEvent(
                    stream_id=stream_id,
                    version=expected_version + offset,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    data=copy.deepcopy(dict(event.data)),
                    occurred_at=event.occurred_at,
                    correlation_id=event.correlation_id,
                    causation_id=event.causation_id,
                    trace=event.trace,
                )
                for offset, event in enumerate(events, start=1)
            ]
            self._streams.setdefault(stream_id, []).extend(stored)
            for write in extra_writes:
                table = self._records.setdefault(write.table, {})
                if isinstance(write, IncrementRecord):
                    row = table.setdefault(_record_key(write.key), dict(write.key))
                    for name, delta in write.increments.items():
                        row[name] = row.get(name, 0) + delta
                elif isinstance(write, UpdateRecord):
                    row = table.setdefault(_record_key(write.key), dict(write.key))
                    row.update(copy.deepcopy(dict(write.attributes)))
                else:
                    table[_record_key(write.key)] = copy.deepcopy(write.item())
            if snapshot is not None:
                self._snapshots[stream_id] = Snapshot(snapshot.version, copy.deepcopy(dict(snapshot.state)))
            subscribers = list(self._subscribers)
        for notify in subscribers:  # plays the DynamoDB stream: after commit, in order
            for event in stored:
                notify(event)
        return stored

    def load(self, stream_id: str, *, use_snapshot: bool = True) -> StreamSlice:
        with self._lock:
            snapshot = self._snapshots.get(stream_id) if use_snapshot else None
            after = snapshot.version if snapshot else 0
            # Versions run 1..n without gaps, so the events after the snapshot are a slice: O(tail), not O(n).
            events = self._streams.get(stream_id, [])[after:]
        return StreamSlice(stream_id, snapshot, events)

    # -- read-model access for in-memory adapters and tests --
    def get_record(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            item = self._records.get(table, {}).get(_record_key(key))
            return copy.deepcopy(item) if item is not None else None

    def records(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(item) for item in self._records.get(table, {}).values()]

    def subscribe(self, notify: Callable[[StoredEvent], None]) -> None:
        self._subscribers.append(notify)
