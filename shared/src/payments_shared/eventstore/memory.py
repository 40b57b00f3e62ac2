"""In-memory event store: the same contract as DynamoDB, for unit tests and benchmarks.

With `transaction_seconds` > 0 it is as strict as DynamoDB about concurrency: an append holds its items for
that long, and another append touching one of them meanwhile is cancelled (`TransactionConflict`), not
queued behind it. `read_seconds` gives loads a read's latency, so racing writers' reads go stale
as they do in DynamoDB. `cancel_next` makes the next appends fail with any cancellation reason DynamoDB gives.
"""

from __future__ import annotations

import copy
import threading
import time
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
    refusal,
)
from payments_shared.eventstore.schemas import NO_CHANGES, SNAPSHOT, Schemas


def _record_key(key: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(key.items()))


ItemKey = tuple[str, tuple[tuple[str, Any], ...]]


def _items(
    stream_id: str,
    expected_version: int,
    events: Sequence[NewEvent],
    extra_writes: Sequence[ExtraWrite],
    snapshot: Snapshot | None,
) -> set[ItemKey]:
    """The items a DynamoDB append would name: version check, events, extra writes, snapshot."""
    versions = range(
        expected_version if events and expected_version > 0 else expected_version + 1,
        expected_version + len(events) + 1,
    )
    items: set[ItemKey] = {("", ((stream_id, v),)) for v in versions}
    items |= {(write.table, _record_key(write.key)) for write in extra_writes}
    if snapshot is not None:
        items.add(("", ((stream_id, 0),)))
    return items


MARKERS = "markers"  # where claim() keeps its markers (DynamoDB: the store's own table)


class InMemoryEventStore:
    def __init__(
        self, transaction_seconds: float = 0.0, read_seconds: float = 0.0, schemas: Schemas = NO_CHANGES
    ) -> None:
        self._schemas = schemas  # the service's upcasters: every load returns current shapes
        self._transaction_seconds = transaction_seconds
        self._read_seconds = read_seconds
        self._in_flight: set[ItemKey] = set()
        self._cancellations: list[str] = []
        self.conflicts = 0  # appends cancelled by an overlapping transaction
        self._lock = threading.Lock()
        self._streams: dict[str, list[StoredEvent]] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._records: dict[str, dict[tuple[tuple[str, Any], ...], dict[str, Any]]] = {}
        self._subscribers: list[Callable[[StoredEvent], object]] = []

    def with_schemas(self, schemas: Schemas) -> InMemoryEventStore:
        """The same data read and written by code with other schemas (a deploy, seen by the data)."""
        view = copy.copy(self)
        view._schemas = schemas
        return view

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
        items = _items(stream_id, expected_version, events, extra_writes, snapshot)
        with self._lock:
            if self._cancellations:
                raise refusal(stream_id, self._cancellations.pop(0))
            if self._in_flight & items:
                self.conflicts += 1
                raise refusal(stream_id, "TransactionConflict")
            self._check(stream_id, expected_version, events, extra_writes)
            self._in_flight |= items
        try:
            # DynamoDB's two-phase commit: the items stay locked while the transaction is in flight, and
            # the conditions checked above cannot change meanwhile.
            time.sleep(self._transaction_seconds)
            with self._lock:
                stored = self._commit(stream_id, expected_version, events, extra_writes, snapshot)
                subscribers = list(self._subscribers)
        finally:
            with self._lock:
                self._in_flight -= items
        for notify in subscribers:  # plays the DynamoDB stream: after commit, in order
            for event in stored:
                notify(event)
        return stored

    def cancel_next(self, *reasons: str) -> None:
        """Cancel the next appends, one per reason, as DynamoDB would (e.g. "ThrottlingError")."""
        with self._lock:
            self._cancellations.extend(reasons)

    def _check(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent], extra_writes: Sequence[ExtraWrite]
    ) -> None:
        stream = self._streams.get(stream_id, [])
        current = stream[-1].version if stream else 0
        if events and current != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version)
        for write in extra_writes:
            taken = _record_key(write.key) in self._records.get(write.table, {})
            if isinstance(write, PutRecord) and write.only_if_absent and taken:
                raise DuplicateRecord(write.table, write.key)

    def _commit(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        extra_writes: Sequence[ExtraWrite],
        snapshot: Snapshot | None,
    ) -> list[StoredEvent]:
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
                schema_version=self._schemas.current(event.event_type),
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
            self._snapshots[stream_id] = Snapshot(
                snapshot.version, copy.deepcopy(dict(snapshot.state)), self._schemas.current(SNAPSHOT)
            )
        return stored

    def claim(self, name: str) -> PutRecord:
        return PutRecord(MARKERS, {"stream_id": name, "version": 0}, only_if_absent=True)

    def load(self, stream_id: str, *, use_snapshot: bool = True, snapshotted: bool = False) -> StreamSlice:
        if self._read_seconds:
            time.sleep(self._read_seconds)
        with self._lock:
            snapshot = self._snapshots.get(stream_id) if use_snapshot or snapshotted else None
            if snapshotted and snapshot is None:
                return StreamSlice(stream_id, None, [])  # as DynamoDB answers it: the snapshot probe alone
            after = snapshot.version if snapshot else 0
            # Versions run 1..n without gaps, so the events after the snapshot are a slice: O(tail), not O(n).
            events = self._streams.get(stream_id, [])[after:]
        return StreamSlice(
            stream_id, self._schemas.snapshot(snapshot) if snapshot else None, [self._schemas.event(e) for e in events]
        )

    # -- read-model access for in-memory adapters and tests --
    def get_record(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            item = self._records.get(table, {}).get(_record_key(key))
            return copy.deepcopy(item) if item is not None else None

    def records(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(item) for item in self._records.get(table, {}).values()]

    def subscribe(self, notify: Callable[[StoredEvent], object]) -> None:
        self._subscribers.append(notify)
