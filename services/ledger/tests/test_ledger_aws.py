"""The ledger on moto: journal streams, and account totals projected from the ledger's DynamoDB stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from types import ModuleType
from typing import Any

from ledger.adapters.dynamodb_accounts import DynamoDBAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import EVENT_SCHEMAS, EntryType, JournalEntryPosted, PostEntry
from ledger.domain.streams import entry_stream, journal_stream
from ledger.entrypoints import api, post, totals
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.ids import RefundId
from payments_shared.money import Money
from payments_testing.aws import CountingClient, LambdaContext, aws_client
from payments_testing.events import deliver, payment_status_updated, refund_status_updated
from payments_testing.http import OPERATOR_1, api_event
from payments_testing.streams import read_stream, stream_event


def test_postings_and_trial_balance_on_dynamodb(runtime: ModuleType, ledger_tables: tuple[Any, str]) -> None:
    dynamodb, stream_arn = ledger_tables
    first = payment_status_updated(amount="12.34")
    for event in (first, first, payment_status_updated(amount="1000", currency="JPY", merchant_id="m-2")):
        assert deliver(post.handler, event) == []
    records = read_stream(aws_client("dynamodbstreams"), stream_arn)
    for _ in range(2):  # the stream delivers at least once: a replayed batch adds nothing
        assert totals.handler(stream_event(records), LambdaContext()) == {"batchItemFailures": []}
    books = api_event("GET", "/ledger/trial-balance", caller=OPERATOR_1)
    response = api.handler(books, LambdaContext())
    body = json.loads(response["body"])
    assert body["balanced"] is True
    assert body["totals"] == {
        "EUR": {"debits_minor": 1234, "credits_minor": 1234},
        "JPY": {"debits_minor": 1000, "credits_minor": 1000},
    }
    journals = dynamodb.scan(TableName="ledger-events")["Items"]
    assert sorted(i["event_type"]["S"] for i in journals if "event_type" in i) == ["JournalEntryPosted"] * 2


def test_a_posting_and_its_totals_are_one_write_each_without_a_read(ledger_tables: tuple[Any, str]) -> None:
    dynamodb, _ = ledger_tables
    counting = CountingClient(dynamodb)
    store = DynamoDBEventStore(counting, "ledger-events", EVENT_SCHEMAS)
    app = LedgerApp(store, DynamoDBAccountTotals(counting, "LedgerAccounts"), FeeSchedule())

    def calls(act: Callable[[], object]) -> dict[str, int]:
        counting.calls.clear()
        act()
        return dict(counting.calls)

    def post(event_id: str, entry_type: EntryType = EntryType.CAPTURE) -> JournalEntryPosted | None:
        command = PostEntry(
            entry_type, "p-1" if entry_type == EntryType.CAPTURE else "rf-1", "p-1", "m-1", Money(1234, "EUR"), event_id
        )
        return app.post(command, Cause("c", event_id))

    assert calls(lambda: post("e-1")) == {"transact_write_items": 1}  # the journal's first event, no read
    # Already posted: the write finds the stream taken, and that is the answer (the ledger's role may not Query).
    assert calls(lambda: post("e-2")) == {"transact_write_items": 1}
    assert calls(lambda: post("e-3", EntryType.REFUND)) == {"transact_write_items": 1}  # a refund: the same
    assert calls(lambda: post("e-4", EntryType.REFUND)) == {"transact_write_items": 1}
    [posted] = store.load(journal_stream("p-1")).events
    assert calls(lambda: app.add_to_totals(posted)) == {"transact_write_items": 1}  # marker and increments
    assert calls(lambda: app.add_to_totals(posted)) == {"transact_write_items": 1}  # refused whole
    assert app.trial_balance().totals() == {"EUR": (1234, 1234)}


def test_a_success_posts_its_capture_and_the_psps_fee_in_one_write_and_a_redelivery_reads_nothing(
    ledger_tables: tuple[Any, str],
) -> None:
    dynamodb, _ = ledger_tables
    counting = CountingClient(dynamodb)
    store = DynamoDBEventStore(counting, "ledger-events", EVENT_SCHEMAS)
    app = LedgerApp(store, DynamoDBAccountTotals(counting, "LedgerAccounts"), FeeSchedule())
    capture = PostEntry(EntryType.CAPTURE, "p-9", "p-9", "m-1", Money(1234, "EUR"), "e-9")
    fee = PostEntry(EntryType.PSP_FEE, "p-9", "p-9", "m-1", Money(66, "EUR"), "e-9")
    posted = app.post_each([capture, fee], Cause("c", "e-9"))
    assert [p.entry_type for p in posted] == ["capture", "psp_fee"]
    assert dict(counting.calls) == {"transact_write_items": 1}  # both entries, each on its own stream, one write
    counting.calls.clear()
    assert app.post_each([capture, fee], Cause("c", "e-9")) == []  # a redelivery: refused whole, naming both
    assert dict(counting.calls) == {"transact_write_items": 1}
    # Posted one at a time before (older code): the capture is there, the fee is written after one refusal.
    app.post(replace(capture, payment_order_id="p-10", entry_key="p-10"), Cause("c", "e-10"))
    counting.calls.clear()
    both = [replace(entry, payment_order_id="p-10", entry_key="p-10") for entry in (capture, fee)]
    later = app.post_each(both, Cause("c", "e-10"))
    assert [p.entry_type for p in later] == ["psp_fee"] and dict(counting.calls) == {"transact_write_items": 2}
    streams = {entry_stream(c.entry_type, c.payment_order_id, c.entry_key) for c in (capture, fee)}
    assert all(len(store.load(stream).events) == 1 for stream in streams)


def test_a_stream_batch_adds_to_the_totals_in_one_write_and_a_redelivery_counts_nothing_twice(
    ledger_tables: tuple[Any, str],
) -> None:
    dynamodb, _ = ledger_tables
    counting = CountingClient(dynamodb)
    store = DynamoDBEventStore(counting, "ledger-events", EVENT_SCHEMAS)
    app = LedgerApp(store, DynamoDBAccountTotals(counting, "LedgerAccounts"), FeeSchedule())
    for n in range(5):  # two merchants: psp_clearing and their two payables, whatever the batch's length
        command = PostEntry(EntryType.CAPTURE, f"p-{n}", f"p-{n}", f"m-{n % 2}", Money(100 * (n + 1), "EUR"), f"e-{n}")
        app.post(command, Cause("c", f"e-{n}"))
    posted = [event for n in range(5) for event in store.load(journal_stream(f"p-{n}")).events]
    counting.calls.clear()

    assert len(app.add_batch_to_totals(posted[:3])) == 3
    assert dict(counting.calls) == {"transact_write_items": 1}  # 3 markers and 3 rows, not 3 transactions
    counting.calls.clear()
    # The stream delivers again, overlapping: the refused write names the 3 counted; the other 2 are added.
    assert app.add_batch_to_totals(posted) == [journal_stream("p-3"), journal_stream("p-4")]
    assert dict(counting.calls) == {"transact_write_items": 2}
    counting.calls.clear()
    assert app.add_batch_to_totals(posted) == []  # all counted: one refused write, nothing added
    assert dict(counting.calls) == {"transact_write_items": 1}
    accounts = {a.account: (a.debits_minor, a.credits_minor) for a in app.trial_balance().accounts}
    assert accounts == {"psp_clearing": (1500, 0), "merchant_payable:m-0": (0, 900), "merchant_payable:m-1": (0, 600)}


def test_refunds_on_dynamodb_are_booked_once_and_failed_ones_never(
    runtime: ModuleType, ledger_tables: tuple[Any, str]
) -> None:
    dynamodb, stream_arn = ledger_tables
    paid = payment_status_updated(amount="12.34")
    order_id = paid["detail"]["data"]["payment_order_id"]
    refund_id, failed_id = (RefundId.for_idempotency_key(order_id, key) for key in ("k-1", "k-2"))
    refunded = refund_status_updated(order_id, refund_id, amount="2.00")
    reversed_ = refund_status_updated(order_id, refund_id, "REVERSED", amount="2.00")
    failed = refund_status_updated(order_id, failed_id, "FAILED", amount="1.00")
    for event in (paid, refunded, refunded, failed, reversed_, reversed_):  # duplicates change nothing
        assert deliver(post.handler, event) == []
    assert deliver(post.handler, refund_status_updated(order_id, refund_id, amount="2.00")) == []  # new event id
    records = read_stream(aws_client("dynamodbstreams"), stream_arn)
    for _ in range(2):
        assert totals.handler(stream_event(records), LambdaContext()) == {"batchItemFailures": []}
    body = json.loads(
        api.handler(api_event("GET", "/ledger/trial-balance", caller=OPERATOR_1), LambdaContext())["body"]
    )
    accounts = {a["account"]: (a["debits_minor"], a["credits_minor"]) for a in body["accounts"]}
    assert body["balanced"] is True
    assert accounts == {"psp_clearing": (1434, 200), "merchant_payable:merchant-1": (200, 1434)}
    journals = [i for i in dynamodb.scan(TableName="ledger-events")["Items"] if "event_type" in i]
    assert sorted(i["stream_id"]["S"] for i in journals) == sorted(
        [
            journal_stream(order_id),
            entry_stream(EntryType.REFUND, order_id, refund_id),
            entry_stream(EntryType.REFUND_REVERSAL, order_id, refund_id),
        ]
    )
