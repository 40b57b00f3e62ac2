"""The event-store port: append-only streams with optimistic concurrency, snapshots and atomic side writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from payments_shared.events import EventEnvelope, TraceContext, utc_now
from payments_shared.ids import EventId

# DynamoDB's TransactWriteItems limit; the in-memory adapter enforces it too so tests catch overflows.
MAX_ITEMS_PER_APPEND = 100


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first; reload and decide again."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id!r} is no longer at version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


class StreamsExist(ConcurrencyConflict):
    """Streams asked to start together exist already (`stream_ids`: every one found); nothing was written."""

    def __init__(self, stream_ids: Sequence[str]) -> None:
        super().__init__(stream_ids[0], 0)
        self.stream_ids = tuple(stream_ids)


class DuplicateRecord(Exception):
    """A once-only name was claimed before: the effect it guards was already recorded; nothing was written.

    `names`: every name of the write found claimed (`name` is the first), so a write of several effects can
    leave those out and commit the rest.
    """

    def __init__(self, name: str, names: Sequence[str] = ()) -> None:
        super().__init__(f"{name!r} was already recorded")
        self.name = name
        self.names = tuple(names) or (name,)


# Why DynamoDB cancels a transaction (CancellationReasons[].Code), by what a caller should do about it.
# A condition that failed is an answer ("someone was first"); these are not: nothing was decided.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
# Whole-call errors botocore has already retried: still passing, so the queue may redeliver later.
RETRYABLE_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
    }
)


class StoreUnavailable(Exception):
    """The write (or a read: eventstore.refusals) was refused for a passing reason (another transaction on one of
    its items, throttling past botocore's retries).

    Nothing was written and nothing was decided: retry after a jittered pause, and when retries run out let
    the queue redeliver. Never read it as "already done", as ConcurrencyConflict or DuplicateRecord are.
    """

    def __init__(self, stream_id: str, reason: str) -> None:
        super().__init__(f"stream {stream_id!r}: refused for now ({reason}); nothing was written")
        self.stream_id = stream_id
        self.reason = reason


class StoreRejected(Exception):
    """The write was refused for a reason no retry fixes (validation, item size, a missing table)."""

    def __init__(self, stream_id: str, reason: str) -> None:
        super().__init__(f"stream {stream_id!r}: write rejected ({reason}); nothing was written")
        self.stream_id = stream_id
        self.reason = reason


class AppendsRefused(Exception):
    """A transaction of several appends was cancelled; nothing of it was written.

    `errors`: for each append, in order, what refused it (ConcurrencyConflict or DuplicateRecord for a condition
    that failed on one of its items, StoreUnavailable or StoreRejected for another reason on one of them), or None
    when none of its items was the cause (DynamoDB's CancellationReasons: one per item, in the request's order,
    a null code for an item that caused nothing). At least one is not None.
    """

    def __init__(self, errors: Sequence[Exception | None]) -> None:
        named = [type(error).__name__ for error in errors if error is not None]
        super().__init__(f"{len(named)} of {len(errors)} appends refused ({', '.join(sorted(set(named)))})")
        self.errors = tuple(errors)


def refusal(stream_id: str, reason: str) -> StoreUnavailable | StoreRejected:
    """The error for a cancellation reason other than a failed condition."""
    if reason in RETRYABLE_REASONS or reason in RETRYABLE_ERRORS:
        return StoreUnavailable(stream_id, reason)
    return StoreRejected(stream_id, reason)


@dataclass(frozen=True)
class NewEvent:
    event_type: str
    data: Mapping[str, Any]
    correlation_id: str
    causation_id: str | None = None
    event_id: EventId = field(default_factory=EventId.new)
    occurred_at: datetime = field(default_factory=utc_now)
    trace: TraceContext = field(default_factory=TraceContext)


@dataclass(frozen=True)
class StoredEvent:
    stream_id: str
    version: int
    event_id: EventId
    event_type: str
    data: Mapping[str, Any]
    occurred_at: datetime
    correlation_id: str
    causation_id: str | None
    trace: TraceContext
    schema_version: int = 1  # of `data`'s shape for this event type (payments_shared.eventstore.schemas)

    def to_envelope(self) -> EventEnvelope:
        return EventEnvelope(
            event_id=self.event_id,
            event_type=self.event_type,
            occurred_at=self.occurred_at,
            aggregate_id=self.stream_id,
            aggregate_version=self.version,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            trace=self.trace,
            data=dict(self.data),
        )


@dataclass(frozen=True)
class Snapshot:
    """An aggregate's folded state at `version`, so long streams load in constant work."""

    version: int
    state: Mapping[str, Any]
    schema_version: int = 1  # of `state`'s shape (payments_shared.eventstore.schemas)
    # Writing: the version of the stored snapshot this one replaces, when the decision was taken on it as the
    # stream's head. The write then requires it, which pins the stream's version (a snapshot is only written
    # with its events): the append needs no version check of its own. None: written whatever is stored.
    replaces: int | None = None


class ViewChange:
    """A read model's change, committed in the same transaction as the events (or the claim) that cause it.

    Read-model adapters make them for the store of their own technology (eventstore.dynamodb's item writes,
    eventstore.memory's row writes); use cases pass them along unopened, so ports speak of the domain.
    """

    def pinned_version(self) -> int | None:
        """The stream version this change's guard requires, when its row is written with every event of the
        stream and records its version: the append then needs no version check of its own. None: no such guard.
        """
        return None


def version_pinned(expected_version: int, changes: Sequence[ViewChange], snapshot: Snapshot | None) -> bool:
    """Whether a guarded change or the replaced snapshot already pins the stream at `expected_version`.

    Saves the append a version-check item: DynamoDB bills a transaction's condition checks as writes.
    """
    if snapshot is not None and snapshot.replaces == expected_version:
        return True
    return any(change.pinned_version() == expected_version for change in changes)


@dataclass(frozen=True)
class Append:
    """One stream's append, as EventStore.append takes it, for a transaction of several (append_many)."""

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]
    changes: Sequence[ViewChange] = ()
    snapshot: Snapshot | None = None
    once: Sequence[str] = ()

    def items(self) -> int:
        """The items its transaction names (DynamoDB's 100 per transaction): the version check (unless a guard
        or the replaced snapshot pins the version), an item per event, per claim, per change, the snapshot."""
        expected, events = self.expected_version, self.events
        checked = bool(events) and expected > 0 and not version_pinned(expected, self.changes, self.snapshot)
        return int(checked) + len(events) + len(self.once) + len(self.changes) + int(self.snapshot is not None)


@dataclass(frozen=True)
class StreamSlice:
    """What `load` returns: the latest snapshot (if any) and the events after it."""

    stream_id: str
    snapshot: Snapshot | None
    events: Sequence[StoredEvent]

    @property
    def version(self) -> int:
        if self.events:
            return self.events[-1].version
        return self.snapshot.version if self.snapshot else 0


class EventStore(Protocol):
    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        changes: Sequence[ViewChange] = (),
        snapshot: Snapshot | None = None,
        once: Sequence[str] = (),
    ) -> list[StoredEvent]:
        """Append events as versions expected_version+1.. atomically with the read-model changes, the snapshot
        and a claim on each `once` name. The stream must be at expected_version: checked by its own item, or by
        a change's guard or the replaced snapshot that pins it (version_pinned).

        Raises ConcurrencyConflict if any of those versions exists, DuplicateRecord if a `once` name was
        claimed before (kept forever), StoreUnavailable when refused for a passing reason (a concurrent
        transaction on a common item, throttling) and StoreRejected otherwise; in every case nothing is
        written.
        """
        ...

    def append_many(self, appends: Sequence[Append]) -> list[StoredEvent]:
        """Several streams' appends (each as `append` writes it) in one transaction, all or nothing: the events
        stored, in the appends' order. No two may name one item (DynamoDB refuses that whole: StoreRejected), and
        together they name at most MAX_ITEMS_PER_APPEND items (else ValueError, nothing sent).

        Raises AppendsRefused, naming what refused each append, when the transaction is cancelled (a condition
        failed, a conflict or throttling on some item, a validation of an item), StoreUnavailable or StoreRejected
        when the whole request is refused (throttled, malformed); in every case nothing is written.
        """
        ...

    def start_streams(self, streams: Sequence[tuple[str, Sequence[NewEvent]]]) -> list[StoredEvent]:
        """Several new streams in one transaction, each with its first events (versions 1..), all or nothing.

        Raises StreamsExist naming every stream that exists already (then nothing is written), StoreUnavailable
        or StoreRejected as append does.
        """
        ...

    def record(self, changes: Sequence[ViewChange], once: str, *more: str) -> None:
        """Read-model changes without events (a projection's), committed once with a claim on each name:
        DuplicateRecord (naming every one claimed before) if any was, and then nothing is written. Refusals as
        for append."""
        ...

    def load(
        self, stream_id: str, *, use_snapshot: bool = True, snapshotted: bool = False, trust_snapshot: bool = False
    ) -> StreamSlice:
        """The stream's snapshot (when use_snapshot) and every event after it, in version order.

        snapshotted: every append to this stream writes its snapshot, so a stream without one is empty and
        is answered without looking for events (one read instead of two for a new stream).
        trust_snapshot (with snapshotted): the snapshot alone, taken as the stream's head without looking for an
        event after it (one read instead of two); an append at its version is refused if one exists, and the
        caller then loads in full.
        """
        ...
