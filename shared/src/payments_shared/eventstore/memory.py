"""In-memory event store: the same contract as DynamoDB, for unit tests and benchmarks.

With `transaction_seconds` > 0 it is as strict as DynamoDB about concurrency: an append holds its items for
that long, and another append touching one of them meanwhile is cancelled (`TransactionConflict`), not
queued behind it. `read_seconds` gives loads a read's latency, so racing writers' reads go stale as they do in
DynamoDB. `cancel_next` makes the next appends fail with any cancellation reason DynamoDB gives.

Read models kept in memory own their rows (`InMemoryRows`); the store writes them only in an append's
transaction (`RowWrite`), as DynamoDB writes a read model's items in the append's TransactWriteItems.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from payments_shared.eventstore.port import (
    MAX_ITEMS_PER_APPEND,
    Append,
    AppendsRefused,
    ConcurrencyConflict,
    DuplicateRecord,
    NewEvent,
    Snapshot,
    StoredEvent,
    StreamsExist,
    StreamSlice,
    ViewChange,
    refusal,
    version_pinned,
)
from payments_shared.eventstore.schemas import NO_CHANGES, SNAPSHOT, Schemas

RowKey = tuple[tuple[str, Any], ...]


def _row_key(key: Mapping[str, Any]) -> RowKey:
    return tuple(sorted(key.items()))


class InMemoryRows:
    """A read model's rows, owned by its in-memory adapter: read here, written only by the store's appends."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._rows: dict[RowKey, dict[str, Any]] = {}

    def put(self, key: Mapping[str, Any], attributes: Mapping[str, Any]) -> RowWrite:
        """Write a whole row."""
        return RowWrite(self, dict(key), lambda _row: {**copy.deepcopy(dict(attributes)), **key})

    def add(self, key: Mapping[str, Any], increments: Mapping[str, int]) -> RowWrite:
        """Add integers to a row's attributes (from 0 for a new row or attribute)."""

        def added(row: dict[str, Any] | None) -> dict[str, Any]:
            row = row or dict(key)
            return {**row, **{name: row.get(name, 0) + delta for name, delta in increments.items()}}

        return RowWrite(self, dict(key), added)

    def set(
        self,
        key: Mapping[str, Any],
        attributes: Mapping[str, Any],
        expected: Mapping[str, Any] | None = None,
        stream_version: str | None = None,
    ) -> RowWrite:
        """Set some attributes of a row (creating it if absent); with `expected`, only if the row holds those
        values (else the append is a lost race: ConcurrencyConflict), as eventstore.dynamodb.SetOnItem, and
        `stream_version` as there."""
        change = RowWrite(self, dict(key), lambda row: {**(row or dict(key)), **copy.deepcopy(dict(attributes))})
        if stream_version is not None and stream_version not in (expected or {}):
            raise ValueError("stream_version names an attribute of `expected`")
        return replace(change, expected=dict(expected or {}), stream_version=stream_version)

    def holds(self, key: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
        """Whether the row exists with every `expected` attribute at its value (a missing one never matches)."""
        with self._lock:
            row = self._rows.get(_row_key(key))
            return row is not None and all(name in row and row[name] == v for name, v in expected.items())

    def get(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            row = self._rows.get(_row_key(key))
            return copy.deepcopy(row) if row is not None else None

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(row) for row in self._rows.values()]

    def _write(self, key: Mapping[str, Any], change: Callable[[dict[str, Any] | None], dict[str, Any]]) -> None:
        with self._lock:
            self._rows[_row_key(key)] = change(self._rows.get(_row_key(key)))


@dataclass(frozen=True)
class RowWrite(ViewChange):
    rows: InMemoryRows
    key: Mapping[str, Any]
    change: Callable[[dict[str, Any] | None], dict[str, Any]]
    expected: Mapping[str, Any] = field(default_factory=dict)  # the row's guard: see InMemoryRows.set
    stream_version: str | None = None

    def pinned_version(self) -> int | None:
        return None if self.stream_version is None else int(self.expected[self.stream_version])


ItemKey = tuple[str, RowKey]


def _row_write(change: ViewChange) -> RowWrite:
    if not isinstance(change, RowWrite):
        raise TypeError(f"{type(change).__name__} is not an in-memory row write: its read model is another store's")
    return change


def _items(
    stream_id: str,
    expected_version: int,
    events: Sequence[NewEvent],
    changes: Sequence[RowWrite],
    snapshot: Snapshot | None,
    once: Sequence[str],
) -> list[ItemKey]:
    """The items a DynamoDB append would name, in its order: version check, events, claims, rows, snapshot."""
    checked = events and expected_version > 0 and not version_pinned(expected_version, changes, snapshot)
    first = expected_version if checked else expected_version + 1
    items: list[ItemKey] = [("", ((stream_id, v),)) for v in range(first, expected_version + len(events) + 1)]
    items += [("", ((name, 0),)) for name in once]
    items += [(f"{id(change.rows)}:{change.rows.name}", _row_key(change.key)) for change in changes]
    if snapshot is not None:
        items.append(("", ((stream_id, 0),)))
    return items


class InMemoryEventStore:
    def __init__(
        self, transaction_seconds: float = 0.0, read_seconds: float = 0.0, schemas: Schemas = NO_CHANGES
    ) -> None:
        self._schemas = schemas  # the service's upcasters: every load returns current shapes
        self._transaction_seconds = transaction_seconds
        self._read_seconds = read_seconds
        self._in_flight: set[ItemKey] = set()
        self._cancellations: list[str] = []
        self._stream_cancellations: dict[str, list[str]] = {}  # stream -> reasons for its next transactions
        self.conflicts = 0  # appends cancelled by an overlapping transaction
        self._lock = threading.Lock()
        self._streams: dict[str, list[StoredEvent]] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._claimed: set[str] = set()  # `once` names, kept forever
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
        changes: Sequence[ViewChange] = (),
        snapshot: Snapshot | None = None,
        once: Sequence[str] = (),
    ) -> list[StoredEvent]:
        writes = [_row_write(change) for change in changes]
        # Items as DynamoDB counts them (the version check on an existing stream is one too).
        named = _items(stream_id, expected_version, events, writes, snapshot, once)
        if len(named) > MAX_ITEMS_PER_APPEND:
            raise ValueError(f"an append writes at most {MAX_ITEMS_PER_APPEND} items")
        items = set(named)
        if len(items) < len(named):  # DynamoDB refuses a transaction naming one item twice, whatever it writes
            raise refusal(stream_id, "ValidationException")
        with self._lock:
            if self._cancellations:
                raise refusal(stream_id, self._cancellations.pop(0))
            if self._in_flight & items:
                self.conflicts += 1
                raise refusal(stream_id, "TransactionConflict")
            self._check(stream_id, expected_version, events, once, writes, snapshot)
            if self._stream_cancellations.get(stream_id):  # after its conditions, which outrank it
                raise refusal(stream_id, self._stream_cancellations[stream_id].pop(0))
            self._in_flight |= items
        try:
            # DynamoDB's two-phase commit: the items stay locked while the transaction is in flight, and
            # the conditions checked above cannot change meanwhile.
            time.sleep(self._transaction_seconds)
            with self._lock:
                stored = self._commit(stream_id, expected_version, events, writes, snapshot, once)
                subscribers = list(self._subscribers)
        finally:
            with self._lock:
                self._in_flight -= items
        for notify in subscribers:  # plays the DynamoDB stream: after commit, in order
            for event in stored:
                notify(event)
        return stored

    def record(self, changes: Sequence[ViewChange], once: str, *more: str) -> None:
        self.append(once, 0, [], changes, once=[once, *more])

    def append_many(self, appends: Sequence[Append]) -> list[StoredEvent]:
        writes = [[_row_write(change) for change in append.changes] for append in appends]
        named = [
            _items(a.stream_id, a.expected_version, a.events, w, a.snapshot, a.once)
            for a, w in zip(appends, writes, strict=True)
        ]
        every = [item for items in named for item in items]
        if not every:
            return []
        if len(every) > MAX_ITEMS_PER_APPEND:
            raise ValueError(f"a transaction writes at most {MAX_ITEMS_PER_APPEND} items")
        if len(set(every)) < len(every):  # DynamoDB refuses a transaction naming one item twice, whatever it writes
            raise refusal(appends[0].stream_id, "ValidationException")
        with self._lock:
            # As DynamoDB's CancellationReasons: a reason per append whose items caused one, None for the others; a
            # failed condition outranks any other reason on the same append.
            errors: list[Exception | None] = [None] * len(appends)
            for i, (append, own) in enumerate(zip(appends, writes, strict=True)):
                try:
                    self._check(
                        append.stream_id,
                        append.expected_version,
                        append.events,
                        append.once,
                        own,
                        append.snapshot,
                    )
                except (ConcurrencyConflict, DuplicateRecord) as failed:
                    errors[i] = failed
                    continue
                if self._stream_cancellations.get(append.stream_id):
                    errors[i] = refusal(append.stream_id, self._stream_cancellations[append.stream_id].pop(0))
                elif self._in_flight & set(named[i]):
                    errors[i] = refusal(append.stream_id, "TransactionConflict")
                    self.conflicts += 1
            if self._cancellations:  # the next transaction, whatever it names: at its first item
                reason = self._cancellations.pop(0)
                errors[0] = errors[0] or refusal(appends[0].stream_id, reason)
            if any(errors):
                raise AppendsRefused(errors)
            self._in_flight |= set(every)
        try:
            time.sleep(self._transaction_seconds)
            with self._lock:
                stored = [
                    event
                    for a, w in zip(appends, writes, strict=True)
                    for event in self._commit(a.stream_id, a.expected_version, a.events, w, a.snapshot, a.once)
                ]
                subscribers = list(self._subscribers)
        finally:
            with self._lock:
                self._in_flight -= set(every)
        for notify in subscribers:
            for event in stored:
                notify(event)
        return stored

    def start_streams(self, streams: Sequence[tuple[str, Sequence[NewEvent]]]) -> list[StoredEvent]:
        named = [("", ((stream_id, v),)) for stream_id, events in streams for v in range(1, len(events) + 1)]
        if not named:
            return []
        if len(named) > MAX_ITEMS_PER_APPEND:
            raise ValueError(f"an append writes at most {MAX_ITEMS_PER_APPEND} items")
        items = set(named)
        if len(items) < len(named):
            raise refusal(streams[0][0], "ValidationException")
        with self._lock:
            if self._cancellations:
                raise refusal(streams[0][0], self._cancellations.pop(0))
            if self._in_flight & items:
                self.conflicts += 1
                raise refusal(streams[0][0], "TransactionConflict")
            taken = [stream_id for stream_id, events in streams if events and self._streams.get(stream_id)]
            if taken:
                raise StreamsExist(taken)
            cancelled = next((stream for stream, _ in streams if self._stream_cancellations.get(stream)), None)
            if cancelled is not None:  # a failed condition outranks it, as in append_many
                raise refusal(cancelled, self._stream_cancellations[cancelled].pop(0))
            self._in_flight |= items
        try:
            time.sleep(self._transaction_seconds)
            with self._lock:
                stored = [
                    event for stream_id, events in streams for event in self._commit(stream_id, 0, events, (), None, ())
                ]
                subscribers = list(self._subscribers)
        finally:
            with self._lock:
                self._in_flight -= items
        for notify in subscribers:
            for event in stored:
                notify(event)
        return stored

    def cancel_next(self, *reasons: str) -> None:
        """Cancel the next appends, one per reason, as DynamoDB would (e.g. "ThrottlingError")."""
        with self._lock:
            self._cancellations.extend(reasons)

    def cancel_stream(self, stream_id: str, *reasons: str) -> None:
        """Cancel the next transactions naming this stream, one per reason, at its items (a transaction of several
        appends names it as the cause for this one only, as DynamoDB's CancellationReasons would)."""
        with self._lock:
            self._stream_cancellations.setdefault(stream_id, []).extend(reasons)

    def _check(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        once: Sequence[str],
        writes: Sequence[RowWrite] = (),
        snapshot: Snapshot | None = None,
    ) -> None:
        stream = self._streams.get(stream_id, [])
        current = stream[-1].version if stream else 0
        pinned = version_pinned(expected_version, writes, snapshot)
        # As DynamoDB: an event's version taken, the version check (unless pinned), a row's guard, the snapshot's.
        if events and (current > expected_version or (current != expected_version and not pinned)):
            raise ConcurrencyConflict(stream_id, expected_version)
        if any(write.expected and not write.rows.holds(write.key, write.expected) for write in writes):
            raise ConcurrencyConflict(stream_id, expected_version)
        if snapshot is not None and snapshot.replaces is not None:
            stored = self._snapshots.get(stream_id)
            if (stored.version if stored else 0) != snapshot.replaces:
                raise ConcurrencyConflict(stream_id, expected_version)
        if events and current != expected_version:
            # DynamoDB would write a gap here: a guard claimed to pin a version its row did not hold.
            raise AssertionError(f"stream {stream_id!r} is at {current}, not {expected_version} as its guard said")
        claimed = [name for name in once if name in self._claimed]
        if claimed:  # as DynamoDB's cancellation reasons name every failed condition
            raise DuplicateRecord(claimed[0], claimed)

    def _commit(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        writes: Sequence[RowWrite],
        snapshot: Snapshot | None,
        once: Sequence[str],
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
        self._claimed.update(once)
        for write in writes:
            write.rows._write(write.key, write.change)
        if snapshot is not None:
            state = copy.deepcopy(dict(snapshot.state))
            self._snapshots[stream_id] = Snapshot(snapshot.version, state, self._schemas.current(SNAPSHOT))
        return stored

    def load(
        self, stream_id: str, *, use_snapshot: bool = True, snapshotted: bool = False, trust_snapshot: bool = False
    ) -> StreamSlice:
        if self._read_seconds:
            time.sleep(self._read_seconds)
        with self._lock:
            snapshot = self._snapshots.get(stream_id) if use_snapshot or snapshotted else None
            if snapshotted and snapshot is None:
                return StreamSlice(stream_id, None, [])  # as DynamoDB answers it: the snapshot probe alone
            if snapshot is not None and snapshotted and trust_snapshot:
                return StreamSlice(stream_id, self._schemas.snapshot(snapshot), [])  # as DynamoDB: no probe
            after = snapshot.version if snapshot else 0
            # Versions run 1..n without gaps, so the events after the snapshot are a slice: O(tail), not O(n).
            events = self._streams.get(stream_id, [])[after:]
        return StreamSlice(
            stream_id, self._schemas.snapshot(snapshot) if snapshot else None, [self._schemas.event(e) for e in events]
        )

    def subscribe(self, notify: Callable[[StoredEvent], object]) -> None:
        self._subscribers.append(notify)
