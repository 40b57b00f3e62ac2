"""The repository every service saves its aggregates through, on both event-store adapters, with a toy decider:
a tally that adds each named amount once (its own dedupe: a name already added decides nothing)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.events import TraceContext
from payments_shared.eventstore import (
    Append,
    DuplicateRecord,
    EventStore,
    NewEvent,
    StoreRejected,
    StoreUnavailable,
    ViewChange,
)
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, PutItem, table_definition
from payments_shared.eventstore.memory import InMemoryEventStore, InMemoryRows
from payments_shared.eventstore.repository import (
    Cause,
    Decision,
    Presumed,
    Repository,
    record_each_once,
    record_once,
    write_batch,
)
from payments_shared.retry import RetryPolicy
from payments_testing.aws import aws_client, fake_credentials
from payments_testing.strict_dynamodb import StrictTransactions

QUICK = RetryPolicy(attempts=3, base_delay_s=0.0)


@dataclass(frozen=True)
class Added(DomainEvent):
    event_type: ClassVar[str] = "Added"
    name: str
    amount: int


@dataclass(frozen=True)
class Add:
    name: str
    amount: int


@dataclass(frozen=True)
class Tally:
    total: int = 0
    names: frozenset[str] = field(default_factory=frozenset)


def decide(command: Add, state: Tally) -> Sequence[DomainEvent]:
    if command.amount <= 0:
        raise ValueError("only positive amounts")
    return [] if command.name in state.names else [Added(command.name, command.amount)]


def evolve(state: Tally, event: DomainEvent) -> Tally:
    assert isinstance(event, Added)
    return Tally(state.total + event.amount, state.names | {event.name})


def snapshot(state: Tally) -> Mapping[str, Any]:
    return {"total": state.total, "names": sorted(state.names)}


def restore(state: Mapping[str, Any]) -> Tally:
    return Tally(int(state["total"]), frozenset(state["names"]))


TALLY = Decider(Tally(), decide, evolve, EventTypes(Added), snapshot, restore)
CAUSE = Cause("corr-1", "msg-1")


class CountingStore:
    """The store under test, counting its loads (a read the common path of a new stream must not make)."""

    def __init__(self, store: EventStore) -> None:
        self.store, self.loads = store, 0

    def append(self, *args: Any, **kwargs: Any) -> Any:
        return self.store.append(*args, **kwargs)

    def record(self, *args: Any, **kwargs: Any) -> Any:
        return self.store.record(*args, **kwargs)

    def start_streams(self, *args: Any, **kwargs: Any) -> Any:
        return self.store.start_streams(*args, **kwargs)

    def append_many(self, *args: Any, **kwargs: Any) -> Any:
        return self.store.append_many(*args, **kwargs)

    def load(self, *args: Any, **kwargs: Any) -> Any:
        self.loads += 1
        return self.store.load(*args, **kwargs)


@dataclass
class Setup:
    store: CountingStore
    row: Any  # (key, attributes) -> a ViewChange of this store's technology
    read: Any  # key -> row | None
    cancel_next: Any  # (*reasons) -> None


@pytest.fixture(params=["memory", "dynamodb"])
def setup(request: pytest.FixtureRequest) -> Iterator[Setup]:
    if request.param == "memory":
        memory, rows = InMemoryEventStore(), InMemoryRows("Tallies")
        yield Setup(CountingStore(memory), rows.put, rows.get, memory.cancel_next)
        return
    request.getfixturevalue("aws")
    fake_credentials()
    client = aws_client("dynamodb")
    client.create_table(**table_definition("events"))
    client.create_table(
        TableName="Tallies",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    strict = StrictTransactions().install()

    def read(key: dict[str, Any]) -> dict[str, Any] | None:
        item = client.get_item(TableName="Tallies", Key={k: {"S": v} for k, v in key.items()}).get("Item")
        return {k: next(iter(v.values())) for k, v in item.items()} if item else None

    try:
        store = DynamoDBEventStore(client, "events")
        yield Setup(CountingStore(store), lambda key, values: PutItem("Tallies", key, values), read, strict.cancel_next)
    finally:
        strict.uninstall()


def total_row(setup: Setup) -> Any:
    def changes(decision: Decision[Tally]) -> list[ViewChange]:
        return [setup.row({"id": decision.stream_id}, {"total": str(decision.state.total)})]

    return changes


def test_a_decision_saves_its_events_and_read_model_change_together(setup: Setup) -> None:
    tallies = Repository(setup.store, TALLY, retry_policy=QUICK)
    decided = tallies.handle("t-1", Add("a", 5), CAUSE, changes=total_row(setup))
    assert decided.changed and decided.version == 1 and decided.state == Tally(5, frozenset({"a"}))
    assert setup.read({"id": "t-1"})["total"] == "5"
    [stored] = setup.store.load("t-1").events
    assert (stored.event_type, dict(stored.data)) == ("Added", {"name": "a", "amount": 5})
    assert (stored.correlation_id, stored.causation_id) == ("corr-1", "msg-1")
    assert isinstance(stored.trace, TraceContext)
    assert tallies.load("t-1").state == decided.state


def test_a_command_already_done_writes_nothing(setup: Setup) -> None:
    tallies = Repository(setup.store, TALLY, retry_policy=QUICK)
    tallies.handle("t-1", Add("a", 5), CAUSE)
    again = tallies.handle("t-1", Add("a", 5), CAUSE, changes=total_row(setup))
    assert not again.changed and again.version == 1 and setup.read({"id": "t-1"}) is None
    assert setup.store.load("t-1").version == 1


def test_a_refused_command_raises_and_writes_nothing(setup: Setup) -> None:
    with pytest.raises(ValueError, match="positive"):
        Repository(setup.store, TALLY).handle("t-1", Add("a", 0), CAUSE)
    assert setup.store.load("t-1").version == 0


def test_a_new_stream_is_written_without_a_read_and_an_existing_one_is_read_and_decided_on(setup: Setup) -> None:
    tallies = Repository(setup.store, TALLY, retry_policy=QUICK)
    tallies.handle("t-1", Add("a", 5), CAUSE, new_stream=True)
    assert setup.store.loads == 0
    again = tallies.handle("t-1", Add("a", 5), CAUSE, new_stream=True)  # the stream exists after all
    assert setup.store.loads == 1 and not again.changed and again.state.total == 5
    other = tallies.handle("t-1", Add("b", 2), CAUSE, new_stream=True)
    assert other.changed and other.version == 2 and other.lost_races == 0 and other.state.total == 7


def test_a_passing_refusal_of_a_new_stream_is_retried_without_a_read(setup: Setup) -> None:
    setup.cancel_next("ThrottlingError")
    decided = Repository(setup.store, TALLY, retry_policy=QUICK).handle("t-1", Add("a", 5), CAUSE, new_stream=True)
    assert decided.changed and decided.lost_races == 1 and setup.store.loads == 0


def test_a_lost_race_decides_again_on_fresh_state(setup: Setup) -> None:
    tallies = Repository(setup.store, TALLY, retry_policy=QUICK)
    tallies.handle("t-1", Add("a", 5), CAUSE)
    racing = {"done": False}

    class RacedStore(CountingStore):
        def append(self, stream_id: str, expected_version: int, *args: Any, **kwargs: Any) -> Any:
            if not racing["done"]:  # another writer commits between our load and our append
                racing["done"] = True
                setup.store.append(stream_id, expected_version, *args, **kwargs)
            return super().append(stream_id, expected_version, *args, **kwargs)

    raced = Repository(RacedStore(setup.store.store), TALLY, retry_policy=QUICK)
    decided = raced.handle("t-1", Add("b", 2), CAUSE)
    # The other writer added "b" first: deciding again on its state, there is nothing left to do.
    assert decided.lost_races == 1 and not decided.changed and decided.state.total == 7
    assert setup.store.load("t-1").version == 2


def test_when_attempts_run_out_the_refusal_propagates_and_nothing_is_written(setup: Setup) -> None:
    setup.cancel_next(*["TransactionConflict"] * QUICK.attempts)
    with pytest.raises(StoreUnavailable):
        Repository(setup.store, TALLY, retry_policy=QUICK).handle("t-1", Add("a", 5), CAUSE)
    assert setup.store.load("t-1").version == 0


def test_a_name_claimed_before_is_a_duplicate_on_any_stream(setup: Setup) -> None:
    tallies = Repository(setup.store, TALLY, retry_policy=QUICK)
    assert tallies.handle("t-1", Add("a", 5), CAUSE, once=["dedupe#msg-1"]).changed
    duplicate = tallies.handle("t-2", Add("a", 5), CAUSE, changes=total_row(setup), once=["dedupe#msg-1"])
    assert duplicate.duplicate and not duplicate.changed
    assert setup.store.load("t-2").version == 0 and setup.read({"id": "t-2"}) is None


def test_snapshots_are_written_with_every_decision_and_loads_start_from_them(setup: Setup) -> None:
    tallies = Repository(setup.store, TALLY, snapshots=True, retry_policy=QUICK)
    for n, name in enumerate("abc", start=1):
        tallies.handle("t-1", Add(name, n), CAUSE)
    loaded = setup.store.load("t-1", snapshotted=True)
    assert loaded.snapshot is not None and loaded.snapshot.version == 3 and list(loaded.events) == []
    assert tallies.load("t-1").state == Tally(6, frozenset("abc")) and tallies.load("t-1").version == 3
    with pytest.raises(ValueError, match="snapshot and restore"):
        Repository(setup.store, Decider(Tally(), decide, evolve, EventTypes(Added)), snapshots=True)


def test_record_once_commits_a_projections_changes_once(setup: Setup) -> None:
    assert record_once(setup.store, [setup.row({"id": "p"}, {"total": "1"})], "totals#t-1", QUICK)
    assert not record_once(setup.store, [setup.row({"id": "p"}, {"total": "2"})], "totals#t-1", QUICK)
    assert setup.read({"id": "p"})["total"] == "1"


def test_record_each_once_writes_a_batch_at_once_and_leaves_out_what_was_recorded_before(setup: Setup) -> None:
    writes: list[list[str]] = []

    def changes(names: Sequence[str]) -> list[ViewChange]:
        writes.append(list(names))
        return [setup.row({"id": "p"}, {"total": "+".join(names)})]

    assert record_each_once(setup.store, ["a", "b"], changes, QUICK) == ["a", "b"]
    assert writes == [["a", "b"]]  # one write for the batch
    writes.clear()
    # Delivered again overlapping: the refused write names a and b, and the rest is written alone.
    assert record_each_once(setup.store, ["a", "c", "b", "d"], changes, QUICK) == ["c", "d"]
    assert writes == [["a", "c", "b", "d"], ["c", "d"]]
    assert setup.read({"id": "p"})["total"] == "c+d"
    writes.clear()
    assert record_each_once(setup.store, ["d", "c"], changes, QUICK) == []  # all of it before: nothing
    assert writes == [["d", "c"]]
    setup.cancel_next("TransactionConflict")  # a passing refusal is retried, not read as recorded
    assert record_each_once(setup.store, ["e"], changes, QUICK) == ["e"]
    assert setup.read({"id": "p"})["total"] == "e"


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(1, 100)), max_size=12), st.booleans())
def test_the_state_decided_is_the_state_the_stored_events_fold_to(commands: list[tuple[str, int]], snaps: bool) -> None:
    store = InMemoryEventStore()
    tallies = Repository(store, TALLY, snapshots=snaps)
    decided = Decision("t", TALLY.initial, 0)
    for name, amount in commands:
        decided = tallies.handle("t", Add(name, amount), CAUSE)
    stored = store.load("t", use_snapshot=False).events
    folded = TALLY.fold(TALLY.initial, (TALLY.events.decode(e.event_type, e.data) for e in stored))
    assert folded == decided.state == tallies.load("t").state
    first_amounts: dict[str, int] = {}
    for name, amount in commands:
        first_amounts.setdefault(name, amount)  # a name is added once: its first amount
    assert folded.total == sum(first_amounts.values()) and len(stored) == len(first_amounts)


def test_a_one_decision_stream_that_exists_is_already_done_without_a_read(setup: Setup) -> None:
    tallies = Repository(setup.store, TALLY, retry_policy=QUICK)
    assert tallies.handle("j-1", Add("a", 5), CAUSE, new_stream=True, one_decision=True).changed
    again = tallies.handle("j-1", Add("b", 2), CAUSE, new_stream=True, one_decision=True)
    assert again.duplicate and not again.changed and setup.store.loads == 0
    assert setup.store.load("j-1").version == 1


def test_a_presumed_state_is_decided_on_without_a_read_and_a_wrong_one_is_read_after_its_refusal(
    setup: Setup,
) -> None:
    tallies = Repository(setup.store, TALLY, retry_policy=QUICK)
    tallies.handle("p-1", Add("a", 5), CAUSE, new_stream=True)
    setup.store.loads = 0
    right = tallies.handle("p-1", Add("b", 2), CAUSE, presume=(Tally(5, frozenset({"a"})), 1))
    assert right.presumed and right.version == 2 and setup.store.loads == 0  # one write, no read
    # Presumed one event behind: the version's condition refuses it, the stream is read and decided on.
    stale = tallies.handle("p-1", Add("c", 1), CAUSE, presume=(Tally(5, frozenset({"a"})), 1))
    assert not stale.presumed and stale.state == Tally(8, frozenset({"a", "b", "c"})) and setup.store.loads == 1
    # A presumption on which nothing is new is no answer: only the stream can say "already done".
    again = tallies.handle("p-1", Add("d", 4), CAUSE, presume=(Tally(12, frozenset({"d"})), 3))
    assert again.changed and again.state.total == 12 and setup.store.loads == 2
    # A refusal on a presumption is not believed either: the stream is read, and decides.
    with pytest.raises(ValueError, match="only positive"):
        tallies.handle("p-1", Add("e", 0), CAUSE, presume=(Tally(12, frozenset({"d"})), 4))
    assert setup.store.loads == 3
    assert [e.data["name"] for e in setup.store.load("p-1").events] == ["a", "b", "c", "d"]


def test_commands_starting_streams_together_are_one_write_and_those_that_exist_are_left_out(setup: Setup) -> None:
    tallies = Repository(setup.store, TALLY, retry_policy=QUICK)
    tallies.handle("s-2", Add("b", 2), CAUSE, new_stream=True, one_decision=True)  # written alone before
    decisions = tallies.start_each([("s-1", Add("a", 1)), ("s-2", Add("b", 2)), ("s-3", Add("c", 3))], CAUSE)
    assert [(d.stream_id, d.changed, d.duplicate) for d in decisions] == [
        ("s-1", True, False),
        ("s-2", False, True),
        ("s-3", True, False),
    ]
    again = tallies.start_each([("s-1", Add("a", 1)), ("s-3", Add("c", 3))], CAUSE)
    assert all(d.duplicate for d in again) and setup.store.loads == 0  # never read
    assert [len(setup.store.load(s).events) for s in ("s-1", "s-2", "s-3")] == [1, 1, 1]


# write_batch: a queue batch's appends in as few transactions as allowed, each owner (a message) on its own.
def new(n: int = 1) -> list[NewEvent]:
    return [NewEvent("Added", {"name": f"n-{i}", "amount": 1}, "corr") for i in range(n)]


def test_a_batch_is_one_transaction_and_what_a_condition_refuses_is_left_out_of_the_next() -> None:
    store = InMemoryEventStore()
    store.append("b-taken", 0, new())
    appends = [("A", Append("b-a", 0, new())), ("B", Append("b-taken", 0, new())), ("B", Append("b-b2", 0, new()))]
    written = write_batch(store, appends, QUICK)
    assert written.written == {0, 2} and set(written.refused) == {1} and not written.failed
    assert [store.load(s).version for s in ("b-a", "b-taken", "b-b2")] == [1, 1, 1]


def test_an_owners_item_refused_for_its_own_reason_fails_that_owner_alone_and_all_its_appends() -> None:
    store = InMemoryEventStore()
    store.cancel_stream("c-b1", "ValidationError")
    appends = [("A", Append("c-a", 0, new())), ("B", Append("c-b1", 0, new())), ("B", Append("c-b2", 0, new()))]
    written = write_batch(store, appends, QUICK)
    assert written.written == {0} and set(written.failed) == {"B"} and isinstance(written.failed["B"], StoreRejected)
    assert [store.load(s).version for s in ("c-a", "c-b1", "c-b2")] == [1, 0, 0]


def test_passing_refusals_are_retried_and_when_they_outlast_the_retries_only_the_owners_named_fail() -> None:
    store = InMemoryEventStore()
    store.cancel_next("TransactionConflict")  # once: retried
    store.cancel_stream("d-b", *["ThrottlingError"] * QUICK.attempts)  # every attempt: B fails, A and C go through
    appends = [("A", Append("d-a", 0, new())), ("B", Append("d-b", 0, new())), ("C", Append("d-c", 0, new()))]
    written = write_batch(store, appends, QUICK)
    assert written.written == {0, 2} and isinstance(written.failed.get("B"), StoreUnavailable)
    assert [store.load(s).version for s in ("d-a", "d-b", "d-c")] == [1, 0, 1]


def test_a_request_refused_whole_is_written_again_one_owner_per_transaction() -> None:
    store = InMemoryEventStore()
    # Two owners claim one name: one item twice, which DynamoDB refuses whole (no item named): split, the first is
    # written and the second refused by the claim.
    appends = [
        ("A", Append("e-a", 0, new(), once=["claim#1"])),
        ("B", Append("e-b", 0, new(), once=["claim#1"])),
        ("C", Append("e-c", 0, new())),
    ]
    written = write_batch(store, appends, QUICK)
    assert written.written == {0, 2} and isinstance(written.refused.get(1), DuplicateRecord) and not written.failed


def test_appends_on_one_stream_go_in_order_in_separate_transactions_and_a_batch_splits_at_100_items() -> None:
    store = InMemoryEventStore()
    appends = [("A", Append("f-1", 0, new())), ("B", Append("f-1", 0, new()))]
    appends += [(f"O-{n}", Append(f"f-big-{n}", 0, new(20))) for n in range(6)]  # 120 items
    transactions: list[int] = []

    class Watched(CountingStore):
        def append_many(self, *args: Any, **kwargs: Any) -> Any:
            transactions.append(len(args[0]))
            return self.store.append_many(*args, **kwargs)

    written = write_batch(Watched(store), appends, QUICK)
    assert written.written == {0, *range(2, 8)} and set(written.refused) == {1}
    # A; B with four big ones (81 items), refused at B's item, then the four again without it; the last two.
    assert transactions == [1, 5, 4, 2]


def test_a_batch_of_new_streams_answers_each_message_alone_a_bad_command_failing_only_its_message() -> None:
    store = InMemoryEventStore()
    tallies = Repository(store, TALLY, retry_policy=QUICK)
    store.append("g-2", 0, [NewEvent("Added", {"name": "x", "amount": 1}, "corr")])
    messages = [
        ([("g-1", Add("a", 1))], CAUSE, TraceContext()),
        ([("g-2", Add("b", 2)), ("g-3", Add("c", 3))], CAUSE, TraceContext()),  # g-2 exists: already done
        ([("g-4", Add("d", -1))], CAUSE, TraceContext()),  # decide refuses it: only this message fails
    ]
    first, second, third = tallies.start_batch(messages)
    assert isinstance(first, list) and [d.changed for d in first] == [True]
    assert isinstance(second, list) and [(d.duplicate, d.changed) for d in second] == [(True, False), (False, True)]
    assert isinstance(third, ValueError)
    assert [store.load(s).version for s in ("g-1", "g-2", "g-3", "g-4")] == [1, 1, 1, 0]


def test_a_presumed_batch_takes_one_command_per_stream() -> None:
    tallies = Repository(InMemoryEventStore(), TALLY, retry_policy=QUICK)
    twice: list[Presumed[Tally, Add]] = [Presumed("h-1", Add(name, 1), CAUSE, None) for name in ("a", "b")]
    with pytest.raises(ValueError, match="one command per stream"):
        tallies.presume_batch(twice)


def test_a_presumed_batch_writes_the_presumptions_at_once_and_reads_only_the_refused() -> None:
    store = CountingStore(InMemoryEventStore())
    tallies = Repository(store, TALLY, retry_policy=QUICK)
    tallies.handle("i-2", Add("x", 1), CAUSE)  # i-2 is at version 1 with x: a presumption of version 0 is refused
    store.loads = 0
    commands = [
        Presumed("i-1", Add("a", 1), CAUSE, (Tally(), 0)),
        Presumed("i-2", Add("b", 2), CAUSE, (Tally(), 0)),
        Presumed("i-3", Add("c", 3), CAUSE, None),  # presumes nothing: read and decided on
    ]
    one, two, three = tallies.presume_batch(commands)
    assert isinstance(one, Decision) and one.presumed and one.state.total == 1
    assert isinstance(two, Decision) and not two.presumed and two.state.total == 3  # read, decided on x's tally
    assert isinstance(three, Decision) and three.changed and not three.presumed
    assert store.loads == 2
