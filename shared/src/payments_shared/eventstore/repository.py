"""The one load → fold → decide → append, for every aggregate (payments_shared.decider) of every service.

A command is decided on the stream's current state and what it decided is saved in one transaction: the new
events, the snapshot (for snapshotted aggregates), the read-model changes the decision implies, and the
once-only claims. A lost race (another writer moved the stream, or a transaction in flight on a common item)
decides again on fresh state, a bounded number of times; then the error propagates and the queue or the
client retries later.

The one dedupe rule: **a command takes effect at most once.**
- Where the stream is the command's own (one stream per payment), the decider says so: deciding on a state
  that already holds the command's effect returns no events, and nothing is written.
- Where a command may land on any of several streams (a wallet's shards) or on none (a projection), its
  message's id is claimed (`once`) in the same transaction, and a second claim is refused: nothing is
  written. Claims are kept forever: one that expired before the last possible redelivery (a DLQ redriven
  days later) would let the effect happen twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from payments_shared.decider import C, Decider, S
from payments_shared.domain_events import DomainEvent
from payments_shared.events import TraceContext
from payments_shared.eventstore.port import (
    MAX_ITEMS_PER_APPEND,
    Append,
    AppendsRefused,
    ConcurrencyConflict,
    DuplicateRecord,
    EventStore,
    NewEvent,
    Snapshot,
    StoreRejected,
    StoreUnavailable,
    StreamsExist,
    ViewChange,
)
from payments_shared.observability.propagation import current_trace_context
from payments_shared.retry import DEFAULT_RETRY, RetryPolicy, retry

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Cause:
    """What new events answer: the conversation they belong to and the message that caused them."""

    correlation_id: str
    causation_id: str | None = None


@dataclass(frozen=True)
class Decision(Generic[S]):
    """A command's result: the stream's state and version after it, and the events it added."""

    stream_id: str
    state: S
    version: int
    events: tuple[DomainEvent, ...] = ()  # none: nothing new (already done), nothing written
    lost_races: int = 0  # attempts decided again because another writer came first
    duplicate: bool = False  # already done: a `once` name was claimed before, or a one-decision stream exists
    presumed: bool = False  # decided on the caller's presumed state, unread: `changes` must guard it (handle)

    @property
    def changed(self) -> bool:
        return bool(self.events)


def _no_changes(_: Decision[S]) -> Sequence[ViewChange]:
    return ()


def _at_once(work: Callable[[], Decision[S]]) -> Decision[S]:
    return work()


@dataclass(frozen=True)
class Presumed(Generic[S, C]):
    """A command of a queue batch for presume_batch: handle's arguments, the trace its events carry, and `within`,
    which runs its own reads and writes (when the batch's write cannot stand for it) in its message's context."""

    stream_id: str
    command: C
    cause: Cause
    presume: tuple[S, int] | None
    changes: Callable[[Decision[S]], Sequence[ViewChange]] = _no_changes
    trace: TraceContext = field(default_factory=TraceContext)
    within: Callable[[Callable[[], Decision[S]]], Decision[S]] = _at_once


class Repository(Generic[S, C]):
    def __init__(
        self,
        store: EventStore,
        decider: Decider[S, C],
        *,
        snapshots: bool = False,
        retry_policy: RetryPolicy = DEFAULT_RETRY,
        trust_snapshot: bool = False,
    ) -> None:
        """snapshots: every append writes the stream's snapshot, so a load is one read however long it grows.
        trust_snapshot (with snapshots): a command's attempts take the snapshot as the stream's head without
        probing for an event after it (every append wrote one), write at its version, and load in full only after
        a refused write (one read and one write on the common path, instead of two reads)."""
        if snapshots and (decider.snapshot is None or decider.restore is None):
            raise ValueError("a snapshotted repository needs the decider's snapshot and restore")
        self._store = store
        self._decider = decider
        self._snapshots = snapshots
        self._retry_policy = retry_policy
        self._trust_snapshot = snapshots and trust_snapshot

    def load(self, stream_id: str, *, trust_snapshot: bool = False) -> Decision[S]:
        """The stream's current state and version (the initial state at version 0 for a new stream);
        trust_snapshot: as the snapshot says, unprobed (the store's load)."""
        return self._load(stream_id, trust_snapshot=trust_snapshot)[0]

    def _load(self, stream_id: str, *, trust_snapshot: bool) -> tuple[Decision[S], int | None]:
        """load, and the stored snapshot's version when it is the stream's head (a snapshot written with the
        decision then replaces it on that condition: Snapshot.replaces)."""
        trusting = {"trust_snapshot": True} if trust_snapshot and self._snapshots else {}
        loaded = self._store.load(stream_id, use_snapshot=self._snapshots, snapshotted=self._snapshots, **trusting)
        state = self._decider.initial
        if loaded.snapshot is not None and self._decider.restore is not None:
            state = self._decider.restore(loaded.snapshot.state)
        events = (self._decider.events.decode(e.event_type, e.data) for e in loaded.events)
        head = loaded.snapshot.version if loaded.snapshot is not None and not loaded.events else None
        return Decision(stream_id, self._decider.fold(state, events), loaded.version), head

    def handle(
        self,
        stream: str | Callable[[], str],
        command: C,
        cause: Cause,
        *,
        changes: Callable[[Decision[S]], Sequence[ViewChange]] = _no_changes,
        once: Sequence[str] = (),
        new_stream: bool = False,
        one_decision: bool = False,
        presume: tuple[S, int] | None = None,
    ) -> Decision[S]:
        """Decide `command` on the stream's state and save the decision with `changes(decision)` and `once`.

        stream: the stream's id, or a function drawing one per attempt (a wallet shard).
        new_stream: the command normally starts its stream, so attempts decide on the initial state without
        reading until a conflict shows the stream exists; then it is read and decided on at once (one write and
        no read on the common path, none either when a passing refusal is retried).
        one_decision: with new_stream, the stream only ever holds the first decision (a payment's journal): a
        stream that exists is the answer "already done" (Decision.duplicate, the state unread), without a read.
        presume: the (state, version) the caller expects the stream at (a consumer of the outcome a young stream
        awaits): attempts decide on it without reading, as Decision.presumed, and `changes` must then guard what
        the decision relied on beyond the version (a row's SetOnItem.expected) — the version alone says how many
        events, not which. A refused write (the stream elsewhere), or a presumption on which nothing is new,
        is read and decided on as usual: only a write that happened ever stands on a presumption.
        Raises what `decide` raises; ConcurrencyConflict or StoreUnavailable when the attempts run out.
        """
        pick = stream if callable(stream) else (lambda: stream)
        # Until a conflict says the stream exists, a retry after a passing refusal writes blind again.
        believed_new = [new_stream]
        presumed = [presume]  # likewise, until a conflict says the stream is elsewhere
        trusting = [self._trust_snapshot]  # until a refused write says the snapshot may not be the head

        def attempt(number: int) -> Decision[S]:
            stream_id = pick()
            if presumed[0] is not None and not believed_new[0]:
                state, version = presumed[0]
                try:
                    decision = self._save(
                        stream_id, state, version, command, cause, changes, once, number, presumed=True
                    )
                except StoreUnavailable:
                    raise  # nothing decided: the retry presumes again
                except Exception:  # noqa: BLE001 - refused (the stream is elsewhere), or decide refused a state
                    presumed[0] = None  # merely presumed: either way the stream itself decides, read below
                else:
                    if decision.changed:
                        return decision
                    presumed[0] = None  # nothing new on the presumption: only the stream itself can say so
            if believed_new[0]:
                try:
                    return self._save(stream_id, self._decider.initial, 0, command, cause, changes, once, number)
                except ConcurrencyConflict:
                    if one_decision:
                        return Decision(stream_id, self._decider.initial, 0, (), number, duplicate=True)
                    believed_new[0] = False  # the stream exists: decide on what it holds
            current, head_snapshot = self._load(stream_id, trust_snapshot=trusting[0])
            try:
                return self._save(
                    stream_id,
                    current.state,
                    current.version,
                    command,
                    cause,
                    changes,
                    once,
                    number,
                    replaces=head_snapshot,
                )
            except ConcurrencyConflict:
                trusting[0] = False  # a racing writer, or an event after the snapshot: the next attempts look
                raise

        return retry(attempt, on=(ConcurrencyConflict, StoreUnavailable), policy=self._retry_policy)

    def start_each(self, commands: Sequence[tuple[str, C]], cause: Cause) -> list[Decision[S]]:
        """Several commands that each start and only ever hold their own stream (handle's new_stream and
        one_decision: a journal's entries of one business event), decided and written in one transaction.

        Streams that exist are "already done" (Decision.duplicate, unread) and the others are written again
        without them, so a redelivery after a part was written (one entry at a time, before) writes the rest.
        Decisions in the commands' order. Raises what `decide` raises; StoreUnavailable when retries run out.
        """
        decided = {
            stream_id: tuple(self._decider.decide(command, self._decider.initial)) for stream_id, command in commands
        }
        taken: set[str] = set()
        cause_ids = (cause.correlation_id, cause.causation_id)

        def attempt(_: int) -> None:
            trace = current_trace_context()
            streams = [
                (stream_id, [NewEvent(e.event_type, e.data, *cause_ids, trace=trace) for e in events])
                for stream_id, events in decided.items()
                if events and stream_id not in taken
            ]
            if streams:
                self._store.start_streams(streams)

        while True:
            try:
                retry(attempt, on=(StoreUnavailable,), policy=self._retry_policy)
                break
            except StreamsExist as exist:  # each pass drops at least one stream, so this ends
                taken.update(exist.stream_ids)
        initial = self._decider.initial
        return [
            Decision(stream_id, initial, 0, (), duplicate=True)
            if stream_id in taken
            else Decision(
                stream_id, self._decider.fold(initial, decided[stream_id]), len(decided[stream_id]), decided[stream_id]
            )
            for stream_id, _ in commands
        ]

    def start_batch(
        self, messages: Sequence[tuple[Sequence[tuple[str, C]], Cause, TraceContext]]
    ) -> list[list[Decision[S]] | Exception]:
        """start_each for each message of a queue batch (its commands, its cause, the trace its events carry), all
        written in as few transactions as DynamoDB allows (write_batch) instead of one per message.

        Per message, in order: its decisions in its commands' order (a stream that exists, or that an earlier
        message of the batch started, is "already done": Decision.duplicate, unread), or the exception that left
        it unwritten (what `decide` raised, a refusal of its own item, passing refusals that outlasted the
        retries). A message's streams are written together or not at all, as start_each writes them.
        """
        initial = self._decider.initial
        decided: list[list[tuple[str, tuple[DomainEvent, ...]]] | Exception] = []
        appends: list[tuple[int, Append]] = []
        where: dict[tuple[int, str], int] = {}  # (message, stream) -> its append's index
        for n, (commands, cause, trace) in enumerate(messages):
            try:
                mine = [(stream_id, tuple(self._decider.decide(command, initial))) for stream_id, command in commands]
            except Exception as error:  # noqa: BLE001 - this message's own fault, as when decided alone
                decided.append(error)
                continue
            decided.append(mine)
            for stream_id, events in mine:
                if events and (n, stream_id) not in where:
                    where[(n, stream_id)] = len(appends)
                    ids = (cause.correlation_id, cause.causation_id)
                    new = [NewEvent(e.event_type, e.data, *ids, trace=trace) for e in events]
                    appends.append((n, Append(stream_id, 0, new)))
        written = write_batch(self._store, appends, self._retry_policy)
        outcomes: list[list[Decision[S]] | Exception] = []
        for n, message in enumerate(decided):
            if isinstance(message, Exception) or n in written.failed:
                outcomes.append(message if isinstance(message, Exception) else written.failed[n])
                continue
            decisions: list[Decision[S]] = []
            for stream_id, events in message:
                if where.get((n, stream_id)) in written.refused:
                    decisions.append(Decision(stream_id, initial, 0, (), duplicate=True))
                else:
                    decisions.append(Decision(stream_id, self._decider.fold(initial, events), len(events), events))
            outcomes.append(decisions)
        return outcomes

    def presume_batch(self, commands: Sequence[Presumed[S, C]]) -> list[Decision[S] | Exception]:
        """handle(presume=...) for a queue batch's commands, each on its own stream: the decisions taken on their
        presumptions are written in one transaction (write_batch), not one each.

        A command whose presumption was refused by its guard (ConditionalCheckFailed: the stream is elsewhere), on
        which nothing is new or that `decide` refused, or that presumes nothing, is then read and decided on as
        handle does (within its own context); the others are written again without it. Per command, in order: its
        decision, or the exception that left it undone (raised by its own read and decide, a refusal of its own
        item, passing refusals that outlasted the retries).
        """
        if len({presumed.stream_id for presumed in commands}) < len(commands):
            raise ValueError("one command per stream in a batch: the next one decides on what the first wrote")
        outcomes: list[Decision[S] | Exception | None] = [None] * len(commands)
        decided: dict[int, Decision[S]] = {}
        appends: list[tuple[int, Append]] = []
        for n, presumed in enumerate(commands):
            if presumed.presume is None:
                continue
            state, version = presumed.presume
            try:
                events = tuple(self._decider.decide(presumed.command, state))
            except Exception:  # noqa: BLE001, S112 - refused on a presumed state: the stream itself decides, read below
                continue
            if not events:
                continue  # nothing new on the presumption: only the stream itself can say so
            folded = self._decider.fold(state, events)
            decision = Decision(presumed.stream_id, folded, version + len(events), events, presumed=True)
            ids = (presumed.cause.correlation_id, presumed.cause.causation_id)
            new = [NewEvent(e.event_type, e.data, *ids, trace=presumed.trace) for e in events]
            appends.append((n, Append(presumed.stream_id, version, new, presumed.changes(decision))))
            decided[n] = decision
        written = write_batch(self._store, appends, self._retry_policy)
        for index, (n, _) in enumerate(appends):
            if index in written.written:
                outcomes[n] = decided[n]
            elif n in written.failed:
                outcomes[n] = written.failed[n]
        for n, presumed in enumerate(commands):
            if outcomes[n] is not None:
                continue
            handled = functools.partial(
                self.handle, presumed.stream_id, presumed.command, presumed.cause, changes=presumed.changes
            )
            try:
                outcomes[n] = presumed.within(handled)
            except Exception as error:  # noqa: BLE001 - this command's own failure: its message alone comes back
                outcomes[n] = error
        return [outcome for outcome in outcomes if outcome is not None]

    def _save(
        self,
        stream_id: str,
        state: S,
        version: int,
        command: C,
        cause: Cause,
        changes: Callable[[Decision[S]], Sequence[ViewChange]],
        once: Sequence[str],
        lost_races: int,
        *,
        presumed: bool = False,
        replaces: int | None = None,
    ) -> Decision[S]:
        events = tuple(self._decider.decide(command, state))
        if not events:
            return Decision(stream_id, state, version, (), lost_races, presumed=presumed)
        decision = Decision(
            stream_id, self._decider.fold(state, events), version + len(events), events, lost_races, presumed=presumed
        )
        snapshot = None
        if self._snapshots and self._decider.snapshot is not None:
            snapshot = Snapshot(decision.version, self._decider.snapshot(decision.state), replaces=replaces)
        trace = current_trace_context()
        new_events = [
            NewEvent(event.event_type, event.data, cause.correlation_id, cause.causation_id, trace=trace)
            for event in events
        ]
        try:
            self._store.append(stream_id, version, new_events, changes(decision), snapshot, once)
        except DuplicateRecord:
            return Decision(stream_id, state, version, (), lost_races, duplicate=True, presumed=presumed)
        return decision


def record_once(
    store: EventStore, changes: Sequence[ViewChange], once: str, retry_policy: RetryPolicy = DEFAULT_RETRY
) -> bool:
    """A projection's read-model changes, committed once per `once` name; False when they were already.

    Passing refusals (other projections adding to the same rows right now, throttling) are retried.
    """
    try:
        retry(lambda _: store.record(changes, once), on=(StoreUnavailable,), policy=retry_policy)
    except DuplicateRecord:
        return False
    return True


def _record_all(store: EventStore, changes: Sequence[ViewChange], names: Sequence[str], _attempt: int) -> None:
    store.record(changes, *names)


def record_each_once(
    store: EventStore,
    names: Sequence[str],
    changes: Callable[[Sequence[str]], Sequence[ViewChange]],
    retry_policy: RetryPolicy = DEFAULT_RETRY,
) -> list[str]:
    """Several effects' read-model changes in one write, each effect once: `names` are their once-only names and
    `changes(names)` what the effects so named change together (a projection's whole batch, rows merged).

    Effects recorded before (a batch delivered again, whole or overlapping) are left out and the rest written
    again, so nothing counts twice and nothing is lost; the write is all or nothing, so there is no half-written
    batch to resume. Returns the names recorded now, in order.
    """
    pending = list(dict.fromkeys(names))
    while pending:
        try:
            write = functools.partial(_record_all, store, changes(pending), pending)
            retry(write, on=(StoreUnavailable,), policy=retry_policy)
        except DuplicateRecord as duplicate:
            # Each pass drops at least one name, so this ends. DynamoDB gives a reason per item of the transaction
            # (CancellationReasons), so one refused write usually names every claim taken before.
            done = set(duplicate.names) | {duplicate.name}
            pending = [name for name in pending if name not in done]
            continue
        return pending
    return []


@dataclass
class BatchWritten(Generic[K]):
    """What write_batch did with a batch's appends (by their index in the batch) and their owners (the messages
    they answer)."""

    written: set[int] = field(default_factory=set)
    refused: dict[int, ConcurrencyConflict | DuplicateRecord] = field(default_factory=dict)  # a condition failed
    failed: dict[K, Exception] = field(default_factory=dict)  # owners none of whose remaining appends was written


def write_batch(
    store: EventStore, appends: Sequence[tuple[K, Append]], retry_policy: RetryPolicy = DEFAULT_RETRY
) -> BatchWritten[K]:
    """Several owners' appends (a queue batch's messages', each owner's written together or not at all) in as few
    transactions as DynamoDB allows: at most MAX_ITEMS_PER_APPEND items each, never one item twice (an append on a
    stream another append of the transaction names goes to the next one, after it), owners in order.

    A cancelled transaction is written again without what refused it, so nothing is lost and no owner waits on
    another's fault: an append whose condition failed is `refused` (the caller knows what that means: posted
    before, or the state it presumed is not the stream's); an owner with an append refused for another reason
    (a validation of its item) `failed` and its other appends are left out; passing refusals (a conflict,
    throttling) are retried with the policy's pauses, and when they persist the owners they named fail. A whole
    request refused for a reason no retry fixes (DynamoDB names no item: too large, one item twice) is written
    again one owner per transaction, so only the owner at fault fails."""
    result: BatchWritten[K] = BatchWritten()
    owners: dict[K, list[tuple[int, Append]]] = {}
    for index, (owner, append) in enumerate(appends):
        owners.setdefault(owner, []).append((index, append))
    transactions: list[list[tuple[int, K, Append]]] = []
    for owner, own in owners.items():
        items, streams = sum(append.items() for _, append in own), {append.stream_id for _, append in own}
        if items > MAX_ITEMS_PER_APPEND:
            result.failed[owner] = ValueError(f"an owner's appends name {items} items, over a transaction's")
            continue
        last = transactions[-1] if transactions else None
        if (
            last is None
            or sum(append.items() for _, _, append in last) + items > MAX_ITEMS_PER_APPEND
            or streams & {append.stream_id for _, _, append in last}
        ):
            transactions.append(last := [])
        last.extend((index, owner, append) for index, append in own)
    for transaction in transactions:
        _write_transaction(store, transaction, retry_policy, result, split=True)
    return result


def _write_transaction(
    store: EventStore,
    transaction: list[tuple[int, K, Append]],
    retry_policy: RetryPolicy,
    result: BatchWritten[K],
    *,
    split: bool,
) -> None:
    pending = list(transaction)
    while pending:  # each pass writes the rest, or leaves out at least one append: this ends
        passing: set[int] = set()  # the appends the last attempt's passing refusal named
        attempt = functools.partial(_attempt_batch, store, list(pending), passing)
        try:
            retry(attempt, on=(StoreUnavailable,), policy=retry_policy)
        except AppendsRefused as refused:
            rejected: dict[K, Exception] = {}
            for (index, owner, _), error in zip(pending, refused.errors, strict=True):
                if isinstance(error, ConcurrencyConflict | DuplicateRecord):
                    result.refused[index] = error
                elif isinstance(error, StoreRejected):
                    rejected.setdefault(owner, error)
            result.failed.update(rejected)
            left = [(i, owner, a) for i, owner, a in pending if i not in result.refused and owner not in rejected]
            if len(left) == len(pending):  # nothing named: never loop on it
                result.failed.update({owner: refused for _, owner, _ in pending})
                return
            pending = left
            continue
        except StoreUnavailable as unavailable:  # the attempts ran out
            named = {owner for i, owner, _ in pending if i in passing} or {owner for _, owner, _ in pending}
            result.failed.update({owner: unavailable for owner in named})
            pending = [(i, owner, a) for i, owner, a in pending if owner not in named]
            continue
        except StoreRejected as rejected:  # the whole request: no item named
            owners = list(dict.fromkeys(owner for _, owner, _ in pending))
            if not split or len(owners) == 1:
                result.failed.update({owner: rejected for owner in owners})
                return
            for owner in owners:
                alone = [(i, o, a) for i, o, a in pending if o == owner]
                _write_transaction(store, alone, retry_policy, result, split=False)
            return
        result.written.update(index for index, _, _ in pending)
        return


def _attempt_batch(store: EventStore, pending: list[tuple[int, K, Append]], passing: set[int], _: int) -> None:
    """One attempt at a transaction of appends; a cancellation for passing reasons only is StoreUnavailable (retried
    whole), its appends noted in `passing`."""
    passing.clear()
    try:
        store.append_many([append for _, _, append in pending])
    except AppendsRefused as refused:
        if all(error is None or isinstance(error, StoreUnavailable) for error in refused.errors):
            passing.update(i for (i, _, _), error in zip(pending, refused.errors, strict=True) if error)
            raise StoreUnavailable(pending[0][2].stream_id, str(refused)) from refused
        raise
