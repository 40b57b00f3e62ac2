"""A queue batch's journal entries are posted in one write (split only at DynamoDB's 100 items per transaction), with
exactly the entries, answers and books of posting the batch's records one at a time; a record posted before costs
one refused write, and a record whose own item is refused for another reason is the only one that comes back.

DynamoDB's TransactWriteItems, as its API reference states it: "groups up to 100 action requests", "no two actions
can target the same item", "the aggregate size of the items in the transaction cannot exceed 4 MB", and a cancelled
transaction's CancellationReasons are "ordered according to the ordering of the TransactWriteItems request
parameter", with a null code for an item that caused nothing (API_CancellationReason); the codes are None,
ConditionalCheckFailed, ItemCollectionSizeLimitExceeded, TransactionConflict, ProvisionedThroughputExceeded,
ThrottlingError and ValidationError (TransactionCanceledException's reference)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import EVENT_SCHEMAS, EntryType, JournalEntryPosted, PostEntry
from ledger.domain.streams import entry_stream
from ledger.entrypoints import post
from payments_shared.events import TraceContext
from payments_shared.eventstore import StoredEvent
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy
from payments_testing.aws import CountingClient, aws_client
from payments_testing.events import deliver, payment_status_updated
from payments_testing.strict_dynamodb import StrictTransactions

NO_PAUSE = RetryPolicy(attempts=3, base_delay_s=0.0, max_delay_s=0.0)


def counted(runtime: ModuleType) -> CountingClient:
    """The ledger's container on moto, its DynamoDB calls counted."""
    counting = CountingClient(aws_client("dynamodb"))
    runtime.container.dynamodb.override(counting)
    return counting


def journal(dynamodb: Any) -> list[tuple[str, str]]:
    """Every journal entry on the table: (stream, the business event it answers)."""
    items = dynamodb.scan(TableName="ledger-events")["Items"]
    return sorted((i["stream_id"]["S"], i["causation_id"]["S"]) for i in items if "event_type" in i)


def successes(count: int) -> list[dict[str, Any]]:
    return [payment_status_updated(amount=f"{10 + n}.00", psp_fee_minor=30 + n) for n in range(count)]


def capture_stream(event: dict[str, Any]) -> str:
    order = event["detail"]["data"]["payment_order_id"]
    return entry_stream(EntryType.CAPTURE, order, order)


def test_a_batch_of_ten_successes_is_one_write_of_their_captures_carrying_their_fees(
    runtime: ModuleType, ledger_tables: tuple[Any, str]
) -> None:
    dynamodb, _ = ledger_tables
    counting = counted(runtime)
    batch = successes(10)
    assert deliver(post.handler, *batch) == []
    assert dict(counting.calls) == {"transact_write_items": 1}
    assert counting.items == {"Put": 10}  # a capture carrying the PSP's fee per payment, at version 1 (was 20)
    assert len(journal(dynamodb)) == 10


def test_a_batch_with_one_record_posted_before_is_two_writes_and_the_same_rows(
    runtime: ModuleType, ledger_tables: tuple[Any, str]
) -> None:
    dynamodb, _ = ledger_tables
    counting = counted(runtime)
    batch = successes(10)
    assert deliver(post.handler, batch[3]) == []  # posted before: this batch redelivers it
    alone = journal(dynamodb)
    counting.clear()
    assert deliver(post.handler, *batch) == []
    # The first write is refused at the redelivered record's item; the other nine are written without it.
    assert dict(counting.calls) == {"transact_write_items": 2}
    rows = journal(dynamodb)
    assert len(rows) == 10 and set(alone) <= set(rows)
    counting.clear()
    assert deliver(post.handler, *batch) == []  # all posted: one refused write, nothing written
    assert dict(counting.calls) == {"transact_write_items": 1} and journal(dynamodb) == rows


def test_a_record_delivered_twice_in_one_batch_is_posted_once(
    runtime: ModuleType, ledger_tables: tuple[Any, str]
) -> None:
    dynamodb, _ = ledger_tables
    counting = counted(runtime)
    first, second = successes(2)
    # DynamoDB refuses a transaction naming one item twice: the second copy goes in the next one, and is refused.
    assert deliver(post.handler, first, second, first) == []
    assert dict(counting.calls) == {"transact_write_items": 2}
    assert len(journal(dynamodb)) == 2


def test_only_the_record_whose_item_is_refused_for_its_own_reason_comes_back(
    runtime: ModuleType, ledger_tables: tuple[Any, str], strict: StrictTransactions
) -> None:
    dynamodb, _ = ledger_tables
    counting = counted(runtime)
    batch = successes(5)
    strict.cancel_where("ValidationError", "ledger-events", "stream_id", capture_stream(batch[2]))
    assert deliver(post.handler, *batch) == [2]
    assert dict(counting.calls) == {"transact_write_items": 2}  # refused at record 2's item, then the other four
    posted = {stream for stream, _ in journal(dynamodb)}
    assert len(posted) == 4 and capture_stream(batch[2]) not in posted
    assert deliver(post.handler, batch[2]) == []  # redelivered: posted now
    assert len(journal(dynamodb)) == 5


def test_passing_refusals_are_retried_and_a_malformed_record_fails_alone(
    runtime: ModuleType, ledger_tables: tuple[Any, str], strict: StrictTransactions
) -> None:
    dynamodb, _ = ledger_tables
    counted(runtime)
    batch = successes(3)
    malformed = payment_status_updated()
    malformed["detail"]["data"]["amount"] = "12.345"  # more decimals than EUR has: refused before any write
    strict.cancel_next("TransactionConflict", "ThrottlingError")
    assert deliver(post.handler, batch[0], malformed, batch[1], batch[2]) == [1]
    assert len(journal(dynamodb)) == 3


def test_past_a_transactions_100_items_the_batch_is_split_at_a_record_boundary(ledger_tables: tuple[Any, str]) -> None:
    dynamodb, _ = ledger_tables
    counting = CountingClient(dynamodb)
    store = DynamoDBEventStore(counting, "ledger-events", EVENT_SCHEMAS)
    app = LedgerApp(store, InMemoryAccountTotals(), FeeSchedule())
    messages = [(entries(f"p-{n}", 1000, 50), Cause(f"p-{n}", f"e-p-{n}"), TraceContext()) for n in range(110)]
    posted = app.post_batch(messages)
    assert all(isinstance(p, list) and len(p) == 1 for p in posted)
    assert dict(counting.calls) == {"transact_write_items": 2}  # 100 items (100 records), then 10
    assert len(journal(dynamodb)) == 110


# The property: batches vs one record at a time, on two in-memory stores given the same faults.
PAYMENTS = {"p-1": (1000, 59), "p-2": (2500, 103), "p-3": (700, 0), "p-4": (300, 12)}  # amount, the PSP's fee


def entries(order: str, amount: int | None = None, fee: int | None = None) -> list[PostEntry]:
    amount, fee = PAYMENTS[order] if amount is None or fee is None else (amount, fee)
    psp_fee = Money(fee, "EUR") if fee else None
    return [PostEntry(EntryType.CAPTURE, order, order, "m-1", Money(amount, "EUR"), f"e-{order}", psp_fee=psp_fee)]


def ledger() -> tuple[InMemoryEventStore, LedgerApp, list[StoredEvent]]:
    store = InMemoryEventStore(schemas=EVENT_SCHEMAS)
    stream: list[StoredEvent] = []
    store.subscribe(stream.append)
    return store, LedgerApp(store, InMemoryAccountTotals(), FeeSchedule(), retry_policy=NO_PAUSE), stream


def answer(outcome: list[JournalEntryPosted] | Exception) -> object:
    return type(outcome).__name__ if isinstance(outcome, Exception) else [(e.entry_type, e.entry_key) for e in outcome]


def rows(store: InMemoryEventStore) -> list[tuple[str, int, str, object, str, str | None]]:
    return sorted(
        (e.stream_id, e.version, e.event_type, dict(e.data), e.correlation_id, e.causation_id)
        for order in PAYMENTS
        for entry in entries(order)
        for e in store.load(entry_stream(entry.entry_type, entry.payment_order_id, entry.entry_key)).events
    )


RECORD = st.tuples(st.sampled_from(sorted(PAYMENTS)), st.sampled_from(["deliver", "deliver", "refused", "rejected"]))


@settings(max_examples=150, deadline=None)
@given(
    before=st.lists(st.sampled_from(sorted(PAYMENTS)), max_size=2),
    batches=st.lists(st.lists(RECORD, min_size=1, max_size=6), min_size=1, max_size=4),
)
def test_posting_a_batch_at_once_gives_the_entries_answers_and_books_of_posting_its_records_one_at_a_time(
    before: list[str], batches: list[list[tuple[str, str]]]
) -> None:
    batched, batch_app, batch_stream = ledger()
    alone, alone_app, alone_stream = ledger()
    for order in before:  # captures posted before the batches (a redelivery's first delivery)
        for app in (batch_app, alone_app):
            app.post(entries(order)[0], Cause(order, f"e-{order}"))
    for batch in batches:
        for store in (batched, alone):  # the same faults for both: a passing refusal, a record's item refused
            if any(how == "refused" for _, how in batch):
                store.cancel_next("TransactionConflict")  # the batch's first write, or its first record's
            for order, how in batch:
                if how == "rejected":
                    store.cancel_stream(entry_stream(EntryType.CAPTURE, order, order), "ValidationError")
        messages = [(entries(order), Cause(order, f"e-{order}"), TraceContext()) for order, _ in batch]
        together = batch_app.post_batch(messages)
        one_at_a_time: list[list[JournalEntryPosted] | Exception] = []
        for commands, cause, _ in messages:
            try:
                one_at_a_time.append(alone_app.post_each(commands, cause))
            except Exception as error:  # noqa: BLE001 - the record's failure is its answer
                one_at_a_time.append(error)
        assert [answer(o) for o in together] == [answer(o) for o in one_at_a_time]
        for store in (batched, alone):  # faults a batch did not reach are not carried into the next
            store._stream_cancellations.clear()
            store._cancellations.clear()
    assert rows(batched) == rows(alone)
    for app, stream in ((batch_app, batch_stream), (alone_app, alone_stream)):
        app.add_batch_to_totals(stream)
        assert all(debits == credits for debits, credits in app.trial_balance().totals().values())
    assert batch_app.trial_balance() == alone_app.trial_balance()
