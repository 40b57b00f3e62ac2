"""One contract suite, run against every EventStore adapter (in-memory and DynamoDB on moto)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from payments_shared.events import TraceContext
from payments_shared.eventstore import (
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
from payments_shared.eventstore import memory as memory_store
from payments_shared.eventstore.dynamodb import AddToItem, DynamoDBEventStore, PutItem, SetOnItem, table_definition
from payments_shared.eventstore.memory import InMemoryEventStore, InMemoryRows
from payments_shared.eventstore.schemas import SNAPSHOT, Schemas
from payments_testing.aws import SerializedClient, aws_client
from payments_testing.strict_dynamodb import PASSING_REASONS, StrictTransactions

READ_MODEL = "ReadModel"


# How long a transaction stays in flight in both strict stores, so that freely racing writers overlap as they
# do on DynamoDB. No test depends on it: one that needs an overlap forces it (Held).
IN_FLIGHT_S = 0.05


class Adapter:
    def __init__(
        self,
        store: EventStore,
        rows: Any,
        read: Any,
        cancel_next: Any,
        reopen: Any,
        hold_with: Any,
        foreign: Any,
        cancel_stream: Any,
    ) -> None:
        self.store = store
        self.rows = rows  # the read model's writes in this store's technology: .put / .add / .set(key, values)
        self.read = read  # (table, key) -> item | None
        self.cancel_next = cancel_next  # (*reasons) -> None: the next appends are cancelled for these
        self.reopen = reopen  # (schemas) -> the same data as a store of code with these schemas sees it
        self.hold_with = hold_with  # (wait) -> None: from now on a transaction in flight calls wait() meanwhile
        self.foreign = foreign  # a read-model change of the other store's technology
        self.cancel_stream = cancel_stream  # (stream, reason) -> None: the next transaction naming it, at its items


class ItemWrites:
    """The DynamoDB read-model writes, shaped as InMemoryRows' (put/add/set), on the READ_MODEL table."""

    def put(self, key: dict[str, Any], attributes: dict[str, Any]) -> ViewChange:
        return PutItem(READ_MODEL, key, attributes)

    def add(self, key: dict[str, Any], increments: dict[str, int]) -> ViewChange:
        return AddToItem(READ_MODEL, key, increments)

    def set(
        self,
        key: dict[str, Any],
        attributes: dict[str, Any],
        expected: dict[str, Any] | None = None,
        stream_version: str | None = None,
    ) -> ViewChange:
        return SetOnItem(READ_MODEL, key, attributes, expected or {}, stream_version)


@pytest.fixture(params=["memory", "dynamodb"])
def adapter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Adapter]:
    if request.param == "memory":
        memory = InMemoryEventStore(transaction_seconds=IN_FLIGHT_S)

        def hold_in_memory(wait: Any) -> None:
            # The in-memory store's one use of the clock is to sleep while an append holds its items.
            monkeypatch.setattr(memory_store, "time", SimpleNamespace(sleep=lambda _: wait()))

        rows = InMemoryRows(READ_MODEL)
        foreign = PutItem(READ_MODEL, {"id": "x"})
        read_rows = lambda _table, key: rows.get(key)  # noqa: E731 - the reader's signature, both adapters
        yield Adapter(
            memory,
            rows,
            read_rows,
            memory.cancel_next,
            memory.with_schemas,
            hold_in_memory,
            foreign,
            memory.cancel_stream,
        )
        return
    request.getfixturevalue("aws")
    client = aws_client("dynamodb")
    client.create_table(**table_definition("events"))
    client.create_table(
        TableName=READ_MODEL,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = boto3.resource("dynamodb", region_name="eu-west-1").Table(READ_MODEL)

    def read(name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        assert name == READ_MODEL
        return table.get_item(Key=key, ConsistentRead=True).get("Item")

    strict = StrictTransactions(hold_seconds=IN_FLIGHT_S).install()

    def hold_in_moto(wait: Any) -> None:
        strict.hold = wait

    try:
        yield Adapter(
            DynamoDBEventStore(SerializedClient(client), "events"),
            ItemWrites(),
            read,
            strict.cancel_next,
            lambda schemas: DynamoDBEventStore(SerializedClient(client), "events", schemas),
            hold_in_moto,
            InMemoryRows(READ_MODEL).put({"id": "x"}, {}),
            lambda stream, reason: strict.cancel_where(reason, "events", "stream_id", stream),
        )
    finally:
        strict.uninstall()


def event(kind: str = "Happened", **data: Any) -> NewEvent:
    return NewEvent(event_type=kind, data=data, correlation_id="corr-1")


def test_append_then_load_returns_events_in_order_with_metadata(adapter: Adapter) -> None:
    trace = TraceContext(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate="k=v")
    first = NewEvent("Opened", {"amount": "12.34", "nested": {"n": 1}}, "corr-1", "cause-1", trace=trace)
    stored = adapter.store.append("s-1", 0, [first, event("Noted", n=2)])
    assert [e.version for e in stored] == [1, 2]

    loaded = adapter.store.load("s-1")
    assert loaded.version == 2 and loaded.snapshot is None
    assert [(e.version, e.event_type, dict(e.data)) for e in loaded.events] == [
        (1, "Opened", {"amount": "12.34", "nested": {"n": 1}}),
        (2, "Noted", {"n": 2}),
    ]
    one = loaded.events[0]
    assert (one.event_id, one.correlation_id, one.causation_id) == (first.event_id, "corr-1", "cause-1")
    assert one.trace == trace
    assert one.occurred_at == first.occurred_at
    assert one.to_envelope().aggregate_version == 1


def test_unknown_stream_loads_empty(adapter: Adapter) -> None:
    loaded = adapter.store.load("nothing-here")
    assert loaded.version == 0 and list(loaded.events) == []


def test_stale_expected_version_is_a_conflict_and_writes_nothing(adapter: Adapter) -> None:
    adapter.store.append("s-1", 0, [event()])
    with pytest.raises(ConcurrencyConflict):
        adapter.store.append("s-1", 0, [event("Late")], [adapter.rows.put({"id": "x"}, {"v": 1})])
    assert [e.event_type for e in adapter.store.load("s-1").events] == ["Happened"]
    assert adapter.read(READ_MODEL, {"id": "x"}) is None


def test_expected_version_ahead_of_the_stream_is_a_conflict(adapter: Adapter) -> None:
    adapter.store.append("s-1", 0, [event()])
    with pytest.raises(ConcurrencyConflict):
        adapter.store.append("s-1", 5, [event()])
    assert adapter.store.load("s-1").version == 1


def test_extra_writes_commit_with_the_events(adapter: Adapter) -> None:
    adapter.store.append("s-1", 0, [event()], [adapter.rows.put({"id": "p-1"}, {"status": "INITIATED"})])
    adapter.store.append("s-1", 1, [event()], [adapter.rows.put({"id": "p-1"}, {"status": "SUCCESS"})])
    assert adapter.read(READ_MODEL, {"id": "p-1"}) == {"id": "p-1", "status": "SUCCESS"}


def test_a_name_claimed_before_refuses_the_whole_append(adapter: Adapter) -> None:
    adapter.store.append("s-1", 0, [event()], once=["dedupe#evt-1"])
    with pytest.raises(DuplicateRecord) as refused:
        adapter.store.append(
            "s-1", 1, [event("Again")], [adapter.rows.put({"id": "r"}, {"n": 1})], once=["dedupe#evt-1"]
        )
    assert refused.value.name == "dedupe#evt-1"
    assert adapter.store.load("s-1").version == 1 and adapter.read(READ_MODEL, {"id": "r"}) is None
    with pytest.raises(DuplicateRecord):  # on any stream: a claim is the store's, not a stream's
        adapter.store.append("s-2", 0, [event()], once=["other", "dedupe#evt-1"])
    assert adapter.store.load("s-2").version == 0
    adapter.store.append("s-2", 0, [event()], once=["other"])  # nothing of the refused append was kept


def test_a_stale_version_outranks_a_claim_taken(adapter: Adapter) -> None:
    adapter.store.append("s-1", 0, [event()], once=["m-1"])
    with pytest.raises(ConcurrencyConflict):
        adapter.store.append("s-1", 0, [event()], once=["m-1"])


def test_record_commits_changes_once_per_name_without_events(adapter: Adapter) -> None:
    adapter.store.record([adapter.rows.add({"id": "acct"}, {"n": 2})], "totals#j-1")
    with pytest.raises(DuplicateRecord):
        adapter.store.record([adapter.rows.add({"id": "acct"}, {"n": 2})], "totals#j-1")
    row = adapter.read(READ_MODEL, {"id": "acct"})
    assert row is not None and row["n"] == 2
    assert list(adapter.store.load("totals#j-1", use_snapshot=False).events) == []  # a claim is no event


def test_record_with_several_names_claimed_before_names_each_and_writes_nothing(adapter: Adapter) -> None:
    adapter.store.record([adapter.rows.add({"id": "acct"}, {"n": 1})], "totals#j-1", "totals#j-2")
    with pytest.raises(DuplicateRecord) as refused:
        adapter.store.record([adapter.rows.add({"id": "acct"}, {"n": 5})], "totals#j-3", "totals#j-2", "totals#j-1")
    # Every claim taken before is named (DynamoDB gives a reason per item), so the caller can leave them all out.
    assert set(refused.value.names) == {"totals#j-1", "totals#j-2"} and refused.value.name in refused.value.names
    row = adapter.read(READ_MODEL, {"id": "acct"})
    assert row is not None and row["n"] == 1
    adapter.store.record([adapter.rows.add({"id": "acct"}, {"n": 4})], "totals#j-3")  # j-3 was not kept either
    row = adapter.read(READ_MODEL, {"id": "acct"})
    assert row is not None and row["n"] == 5


def test_a_change_of_the_other_stores_technology_is_refused_and_nothing_is_written(adapter: Adapter) -> None:
    with pytest.raises(TypeError, match="another store's"):
        adapter.store.append("s-1", 0, [event()], [adapter.foreign])
    assert adapter.store.load("s-1").version == 0


def test_snapshot_is_loaded_with_only_the_newer_events(adapter: Adapter) -> None:
    adapter.store.append("w-1", 0, [event(n=1), event(n=2)], snapshot=Snapshot(2, {"total": 3}))
    adapter.store.append("w-1", 2, [event(n=3)])
    loaded = adapter.store.load("w-1")
    assert loaded.snapshot == Snapshot(2, {"total": 3})
    assert [e.data["n"] for e in loaded.events] == [3]
    assert loaded.version == 3
    full = adapter.store.load("w-1", use_snapshot=False)
    assert full.snapshot is None and [e.data["n"] for e in full.events] == [1, 2, 3]


def test_a_snapshotted_stream_without_a_snapshot_is_empty_and_with_one_loads_the_tail(adapter: Adapter) -> None:
    assert adapter.store.load("w-2", snapshotted=True).version == 0
    adapter.store.append("w-2", 0, [event(n=1)], snapshot=Snapshot(1, {"total": 1}))
    adapter.store.append("w-2", 1, [event(n=2)], snapshot=Snapshot(2, {"total": 3}))
    loaded = adapter.store.load("w-2", snapshotted=True)
    assert loaded.snapshot == Snapshot(2, {"total": 3}) and list(loaded.events) == [] and loaded.version == 2


def test_a_trusted_snapshot_is_loaded_alone_and_an_append_at_its_version_is_refused_if_it_is_not_the_head(
    adapter: Adapter,
) -> None:
    adapter.store.append("ts-1", 0, [event(), event()], snapshot=Snapshot(2, {"n": 2}))
    trusted = adapter.store.load("ts-1", snapshotted=True, trust_snapshot=True)
    assert trusted.snapshot is not None and trusted.version == 2 and list(trusted.events) == []
    adapter.store.append("ts-1", 2, [event()])  # an event after the snapshot, without one
    stale = adapter.store.load("ts-1", snapshotted=True, trust_snapshot=True)
    assert stale.version == 2  # unprobed: the snapshot's word
    with pytest.raises(ConcurrencyConflict):
        adapter.store.append("ts-1", stale.version, [event()], snapshot=Snapshot(3, {"n": 3}))
    assert adapter.store.load("ts-1", snapshotted=True).version == 3  # the full load finds the head


def test_loads_page_through_long_streams(adapter: Adapter) -> None:
    payload = "x" * 20_000  # ~60 events per 1 MB DynamoDB query page, so 120 events need two pages
    version = 0
    for _ in range(6):
        adapter.store.append("long", version, [event(n=version + i, pad=payload) for i in range(20)])
        version += 20
    assert [e.version for e in adapter.store.load("long").events] == list(range(1, 121))


def race(writers: Sequence[Callable[[], object]]) -> list[str]:
    """Run the writers at once; every writer's outcome: "won", "conflict" (version taken), the refusal reason,
    or "raised …" for anything else."""
    barrier = threading.Barrier(len(writers), timeout=30)

    def run(write: Callable[[], object]) -> str:
        barrier.wait()
        try:
            write()
        except ConcurrencyConflict:
            return "conflict"
        except StoreUnavailable as refused:
            return refused.reason
        except Exception as error:  # noqa: BLE001 - an outcome like the others, for the assertion to name
            return f"raised {error!r}"
        return "won"

    with ThreadPoolExecutor(len(writers)) as pool:  # leaves once every writer has finished
        return list(pool.map(run, writers))


class Held:
    """Holds the first transaction in flight until released, so another one overlaps it for certain."""

    def __init__(self) -> None:
        self.in_flight = threading.Event()
        self.released = threading.Event()

    def wait(self) -> None:
        if self.in_flight.is_set():
            return  # only the first transaction is held
        self.in_flight.set()
        if not self.released.wait(timeout=30):
            raise TimeoutError("the held transaction was never released")


def test_racing_writers_for_the_same_version_exactly_one_wins(adapter: Adapter) -> None:
    adapter.store.append("race", 0, [event()])
    writers = [lambda n=n: adapter.store.append("race", 1, [event("Raced", writer=n)]) for n in range(8)]
    outcomes = race(writers)
    # The losers either find the version taken or overlap the winner's transaction: nothing else happens.
    losers = [outcome for outcome in outcomes if outcome != "won"]
    assert len(outcomes) == 8 and len(losers) == 7, outcomes
    assert set(losers) <= {"conflict", "TransactionConflict"}, outcomes
    assert [e.event_type for e in adapter.store.load("race").events] == ["Happened", "Raced"]


def test_overlapping_transactions_on_a_common_item_conflict_and_write_nothing(adapter: Adapter) -> None:
    bump = adapter.rows.add({"id": "hot"}, {"n": 1})
    held = Held()
    adapter.hold_with(held.wait)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(adapter.store.append, "a", 0, [event()], [bump])
        assert held.in_flight.wait(timeout=30)
        try:
            with pytest.raises(StoreUnavailable) as refused:  # "b" names the row "a"'s transaction holds
                adapter.store.append("b", 0, [event()], [bump])
        finally:
            held.released.set()
        first.result()
    assert refused.value.reason == "TransactionConflict"
    assert adapter.store.load("a").version == 1 and adapter.store.load("b").version == 0
    row = adapter.read(READ_MODEL, {"id": "hot"})
    assert row is not None and row["n"] == 1
    adapter.store.append("b", 0, [event()], [bump])  # once "a"'s transaction is over, the same append goes through
    row = adapter.read(READ_MODEL, {"id": "hot"})
    assert row is not None and row["n"] == 2


@pytest.mark.parametrize("reason", PASSING_REASONS)
def test_passing_cancellations_are_retryable_never_conflicts_and_write_nothing(adapter: Adapter, reason: str) -> None:
    adapter.cancel_next(reason)
    row = adapter.rows.put({"id": "r-1"}, {"n": 1})
    with pytest.raises(StoreUnavailable) as refused:
        adapter.store.append("s-1", 0, [event()], [row], once=["dedupe#1"])
    assert refused.value.reason == reason
    assert not isinstance(refused.value, ConcurrencyConflict | DuplicateRecord)
    assert adapter.store.load("s-1").version == 0 and adapter.read(READ_MODEL, {"id": "r-1"}) is None
    adapter.store.append("s-1", 0, [event()], [row], once=["dedupe#1"])  # the retry decides: the claim was free
    assert adapter.store.load("s-1").version == 1


def test_other_cancellations_are_rejected_as_not_retryable(adapter: Adapter) -> None:
    adapter.cancel_next("ValidationError")
    with pytest.raises(StoreRejected, match="ValidationError"):
        adapter.store.append("s-1", 0, [event()])
    assert adapter.store.load("s-1").version == 0


def test_an_append_naming_one_item_twice_is_rejected_and_writes_nothing(adapter: Adapter) -> None:
    with pytest.raises(StoreRejected):  # the claim and the snapshot are the same item: (s-1, 0)
        adapter.store.append("s-1", 0, [event()], snapshot=Snapshot(1, {}), once=["s-1"])
    with pytest.raises(StoreRejected):  # one read-model row written twice
        adapter.store.append(
            "s-2", 0, [event()], [adapter.rows.put({"id": "r"}, {}), adapter.rows.set({"id": "r"}, {"n": 1})]
        )
    assert adapter.store.load("s-1", use_snapshot=False).version == 0 and adapter.store.load("s-2").version == 0
    assert adapter.read(READ_MODEL, {"id": "r"}) is None


def test_an_append_is_limited_to_one_transaction(adapter: Adapter) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        adapter.store.append("big", 0, [event() for _ in range(101)])
    assert adapter.store.load("big").version == 0


def test_increments_add_atomically_with_the_events_and_start_from_zero(adapter: Adapter) -> None:
    bump = adapter.rows.add({"id": "acct"}, {"debits": 5, "credits": 0})
    adapter.store.append("e-1", 0, [event()], [bump])
    adapter.store.append("e-2", 0, [event()], [bump, adapter.rows.add({"id": "other"}, {"credits": 7})])
    with pytest.raises(ConcurrencyConflict):
        adapter.store.append("e-2", 0, [event()], [bump])  # refused: the increment must not apply either
    row = adapter.read(READ_MODEL, {"id": "acct"})
    assert row is not None and (row["debits"], row["credits"]) == (10, 0)
    other = adapter.read(READ_MODEL, {"id": "other"})
    assert other is not None and other["credits"] == 7


def test_updates_set_attributes_without_touching_the_rest(adapter: Adapter) -> None:
    created = adapter.rows.put({"id": "o-1"}, {"status": "NEW", "amount": "1.00"})
    adapter.store.append("u-1", 0, [event()], [created])
    paid = adapter.rows.set({"id": "o-1"}, {"status": "PAID", "note": None})
    adapter.store.append("u-1", 1, [event()], [paid])
    assert adapter.read(READ_MODEL, {"id": "o-1"}) == {"id": "o-1", "status": "PAID", "amount": "1.00", "note": None}


def test_a_rows_guard_refuses_the_whole_append_as_a_lost_race_when_the_row_is_not_as_expected(
    adapter: Adapter,
) -> None:
    adapter.store.append("g-1", 0, [event()], [adapter.rows.put({"id": "o-2"}, {"status": "NEW", "version": 1})])
    moved = adapter.rows.set({"id": "o-2"}, {"status": "PAID", "version": 2}, {"status": "PAID", "version": 1})
    with pytest.raises(ConcurrencyConflict):  # the decision presumed another state: read, decide again
        adapter.store.append("g-1", 1, [event()], [moved], once=["g-1#claim"])
    absent = adapter.rows.set({"id": "o-3"}, {"status": "PAID"}, {"status": "NEW"})  # no row: never as expected
    with pytest.raises(ConcurrencyConflict):
        adapter.store.append("g-2", 0, [event()], [absent])
    assert adapter.store.load("g-1").version == 1 and adapter.store.load("g-2").version == 0
    adapter.store.record([adapter.rows.put({"id": "c"}, {})], "g-1#claim")  # the refused append claimed nothing
    guarded = adapter.rows.set({"id": "o-2"}, {"status": "PAID", "version": 2}, {"status": "NEW", "version": 1})
    adapter.store.append("g-1", 1, [event()], [guarded])
    row = adapter.read(READ_MODEL, {"id": "o-2"})
    assert row is not None and (row["status"], row["version"]) == ("PAID", 2)


def test_a_rows_guard_on_the_streams_version_stands_for_the_version_check(adapter: Adapter) -> None:
    adapter.store.append("pv-1", 0, [event()], [adapter.rows.put({"id": "r-1"}, {"status": "NEW", "version": 1})])

    def moved(at: int) -> ViewChange:
        return adapter.rows.set({"id": "r-1"}, {"status": "PAID", "version": at + 1}, {"version": at}, "version")

    adapter.store.append("pv-1", 1, [event("Paid")], [moved(1)])
    with pytest.raises(ConcurrencyConflict):  # stale: the row (and the stream) moved on
        adapter.store.append("pv-1", 1, [event("Late")], [moved(1)])
    # No row (nor event) yet: a pinned guard never matches a missing row, so nothing lands in an empty stream.
    orphan = adapter.rows.set({"id": "r-2"}, {"status": "PAID", "version": 2}, {"version": 1}, "version")
    with pytest.raises(ConcurrencyConflict):
        adapter.store.append("pv-2", 1, [event("Paid")], [orphan])
    assert [e.event_type for e in adapter.store.load("pv-1").events] == ["Happened", "Paid"]
    assert adapter.store.load("pv-2").version == 0 and adapter.read(READ_MODEL, {"id": "r-2"}) is None
    with pytest.raises(ValueError, match="stream_version"):
        adapter.rows.set({"id": "r-1"}, {"status": "PAID"}, {"status": "NEW"}, "version")


def test_a_snapshot_replacing_the_head_stands_for_the_version_check(adapter: Adapter) -> None:
    adapter.store.append("sr-1", 0, [event(n=1)], snapshot=Snapshot(1, {"n": 1}, replaces=0))
    adapter.store.append("sr-1", 1, [event(n=2)], snapshot=Snapshot(2, {"n": 3}, replaces=1))
    with pytest.raises(ConcurrencyConflict):  # decided on a snapshot that is no longer the stored one
        adapter.store.append("sr-1", 1, [event(n=9)], snapshot=Snapshot(2, {"n": 10}, replaces=1))
    with pytest.raises(ConcurrencyConflict):  # the stream has a snapshot: "none yet" is stale too
        adapter.store.append("sr-1", 2, [event(n=9)], snapshot=Snapshot(3, {"n": 12}, replaces=0))
    adapter.store.append("sr-1", 2, [event(n=3)])  # an event after the snapshot, written without one
    with pytest.raises(ConcurrencyConflict):  # the snapshot still matches, but its next version is taken
        adapter.store.append("sr-1", 2, [event(n=9)], snapshot=Snapshot(3, {"n": 12}, replaces=2))
    loaded = adapter.store.load("sr-1")
    assert loaded.snapshot == Snapshot(2, {"n": 3}) and [e.data["n"] for e in loaded.events] == [3]


def test_streams_started_together_are_written_all_or_nothing_naming_every_one_that_exists(adapter: Adapter) -> None:
    adapter.store.start_streams([("n-1", [event()]), ("n-2", [event(), event()])])
    assert (adapter.store.load("n-1").version, adapter.store.load("n-2").version) == (1, 2)
    with pytest.raises(StreamsExist) as exist:
        adapter.store.start_streams([("n-3", [event()]), ("n-1", [event()]), ("n-2", [event()])])
    assert exist.value.stream_ids == ("n-1", "n-2")
    assert adapter.store.load("n-3").version == 0  # nothing written
    adapter.cancel_next("TransactionConflict")
    with pytest.raises(StoreUnavailable):
        adapter.store.start_streams([("n-3", [event()])])
    [stored] = adapter.store.start_streams([("n-3", [event(amount=1)])])
    assert (stored.stream_id, stored.version, dict(stored.data)) == ("n-3", 1, {"amount": 1})


def test_appends_to_several_streams_commit_together_in_order(adapter: Adapter) -> None:
    adapter.store.append("m-2", 0, [event()])
    guard = adapter.rows.set({"id": "m-2"}, {"status": "done"}, {}, None)
    stored = adapter.store.append_many(
        [
            Append("m-1", 0, [event(n=1), event(n=2)]),
            Append("m-2", 1, [event(n=3)], [guard]),
            Append("m-3", 0, [], [adapter.rows.put({"id": "m-3"}, {"n": 3})], once=["claim#m-3"]),
        ]
    )
    assert [(e.stream_id, e.version, dict(e.data)) for e in stored] == [
        ("m-1", 1, {"n": 1}),
        ("m-1", 2, {"n": 2}),
        ("m-2", 2, {"n": 3}),
    ]
    assert (adapter.store.load("m-1").version, adapter.store.load("m-2").version) == (2, 2)
    assert adapter.read(READ_MODEL, {"id": "m-2"}) is not None and adapter.read(READ_MODEL, {"id": "m-3"}) is not None
    assert adapter.store.append_many([]) == []


def test_a_refused_transaction_of_appends_names_each_ones_cause_and_writes_nothing(adapter: Adapter) -> None:
    adapter.store.append("t-taken", 0, [event()])
    adapter.store.record([], "claim#t")
    guard = adapter.rows.set({"id": "t-row"}, {"status": "SUCCESS"}, {"status": "INITIATED"}, None)
    appends = [
        Append("t-new", 0, [event()]),
        Append("t-taken", 0, [event()]),  # the version is taken: a condition
        Append("t-claim", 0, [event()], once=["claim#t"]),  # the claim is taken
        Append("t-guarded", 0, [event()], [guard]),  # the row is not as presumed
        Append("t-other", 0, [event()]),
    ]
    with pytest.raises(AppendsRefused) as refused:
        adapter.store.append_many(appends)
    errors = refused.value.errors
    assert errors[0] is None and errors[4] is None
    assert isinstance(errors[1], ConcurrencyConflict) and errors[1].stream_id == "t-taken"
    assert isinstance(errors[2], DuplicateRecord) and errors[2].names == ("claim#t",)
    assert isinstance(errors[3], ConcurrencyConflict) and errors[3].stream_id == "t-guarded"
    assert all(adapter.store.load(s).version == 0 for s in ("t-new", "t-claim", "t-guarded", "t-other"))
    # Written again without the refused ones: the rest goes through.
    adapter.store.append_many([appends[0], appends[4]])
    assert (adapter.store.load("t-new").version, adapter.store.load("t-other").version) == (1, 1)


@pytest.mark.parametrize("reason", [*PASSING_REASONS, "ValidationError"])
def test_a_cancellation_at_one_appends_items_names_only_that_append(adapter: Adapter, reason: str) -> None:
    adapter.cancel_stream("u-2", reason)
    with pytest.raises(AppendsRefused) as refused:
        adapter.store.append_many([Append(f"u-{n}", 0, [event()]) for n in range(1, 4)])
    first, second, third = refused.value.errors
    assert first is None and third is None
    passing = reason in PASSING_REASONS
    assert isinstance(second, StoreUnavailable if passing else StoreRejected) and second.reason == reason
    assert all(adapter.store.load(f"u-{n}").version == 0 for n in range(1, 4))
    adapter.store.append_many([Append(f"u-{n}", 0, [event()]) for n in (1, 3)])
    assert [adapter.store.load(f"u-{n}").version for n in range(1, 4)] == [1, 0, 1]


def test_an_append_among_several_overlapping_another_transaction_is_named_as_the_conflict(adapter: Adapter) -> None:
    bump = adapter.rows.add({"id": "hot"}, {"n": 1})
    held = Held()
    adapter.hold_with(held.wait)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(adapter.store.append, "x-0", 0, [event()], [bump])
        assert held.in_flight.wait(timeout=30)
        try:
            with pytest.raises(AppendsRefused) as refused:  # "x-2" names the row "x-0"'s transaction holds
                adapter.store.append_many([Append("x-1", 0, [event()]), Append("x-2", 0, [event()], [bump])])
        finally:
            held.released.set()
        first.result()
    quiet, conflict = refused.value.errors
    assert quiet is None and isinstance(conflict, StoreUnavailable) and conflict.reason == "TransactionConflict"
    assert adapter.store.load("x-1").version == 0 and adapter.store.load("x-2").version == 0


def test_a_transaction_of_appends_naming_one_item_twice_is_rejected_whole(adapter: Adapter) -> None:
    with pytest.raises(StoreRejected):
        adapter.store.append_many([Append("v-1", 0, [event()]), Append("v-1", 0, [event()])])
    assert adapter.store.load("v-1").version == 0


def test_a_transaction_of_appends_is_limited_to_one_transactions_items(adapter: Adapter) -> None:
    appends = [Append(f"w-{n}", 0, [event(), event()]) for n in range(51)]
    assert sum(append.items() for append in appends) == 102
    with pytest.raises(ValueError, match="at most 100"):
        adapter.store.append_many(appends)
    adapter.store.append_many(appends[:50])
    assert adapter.store.load("w-49").version == 2


# Version 2 of "Happened" renamed `amount` to `amount_minor`; version 3 added `currency`. The snapshots' state
# went from a bare total to totals per currency.
UPCASTERS = Schemas(
    {
        ("Happened", 1): lambda data: {
            **{k: v for k, v in data.items() if k != "amount"},
            "amount_minor": data["amount"],
        },
        ("Happened", 2): lambda data: {**data, "currency": "EUR"},
        (SNAPSHOT, 1): lambda state: {"totals": {"EUR": state["total"]}},
    }
)


def test_events_and_snapshots_written_by_older_code_load_in_the_current_shape(adapter: Adapter) -> None:
    adapter.store.append("s-old", 0, [event(amount=5), event(amount=7)], snapshot=Snapshot(1, {"total": 5}))
    current = adapter.reopen(UPCASTERS)
    loaded = current.load("s-old", use_snapshot=False)
    assert [(e.data, e.schema_version) for e in loaded.events] == [
        ({"amount_minor": 5, "currency": "EUR"}, 3),
        ({"amount_minor": 7, "currency": "EUR"}, 3),
    ]
    tail = current.load("s-old")
    assert tail.snapshot == Snapshot(1, {"totals": {"EUR": 5}}, schema_version=2)
    assert [e.data["amount_minor"] for e in tail.events] == [7]


def test_new_writes_record_the_current_version_and_are_not_upcast_again(adapter: Adapter) -> None:
    current = adapter.reopen(UPCASTERS)
    current.append("s-new", 0, [event(amount_minor=9, currency="PLN")], snapshot=Snapshot(1, {"totals": {"PLN": 9}}))
    loaded = current.load("s-new", use_snapshot=False)
    assert [(e.data, e.schema_version) for e in loaded.events] == [({"amount_minor": 9, "currency": "PLN"}, 3)]
    assert current.load("s-new").snapshot == Snapshot(1, {"totals": {"PLN": 9}}, schema_version=2)


def test_an_event_newer_than_the_code_is_refused_not_misread(adapter: Adapter) -> None:
    adapter.reopen(UPCASTERS).append("s-future", 0, [event(amount_minor=1, currency="EUR")])
    with pytest.raises(ValueError, match="newer than this code"):
        adapter.store.load("s-future")  # code that knows only version 1 of "Happened"


def test_the_in_memory_store_refuses_a_guard_that_pins_a_version_its_stream_is_not_at() -> None:
    # DynamoDB would write a gap (versions 1 then 6): the in-memory store makes that bug loud instead.
    store, rows = InMemoryEventStore(), InMemoryRows(READ_MODEL)
    store.append("lie-1", 0, [event()], [rows.put({"id": "r"}, {"version": 5})])
    lying = rows.set({"id": "r"}, {"version": 6}, {"version": 5}, "version")
    with pytest.raises(AssertionError, match="guard"):
        store.append("lie-1", 5, [event()], [lying])
    assert store.load("lie-1").version == 1
