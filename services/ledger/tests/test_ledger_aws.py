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
from ledger.domain.streams import entry_stream, journal_stream, totals_marker
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


def test_a_success_with_the_psps_fee_is_one_journal_item_and_one_totals_marker_where_it_was_two(
    runtime: ModuleType, ledger_tables: tuple[Any, str]
) -> None:
    """Issue 32: the capture carries the PSP's fee, so a SUCCESS costs one event item in ledger-events and one
    `totals#` marker (2 transactional items, 4 write units, fewer than the capture and psp_fee entries cost)."""
    dynamodb, stream_arn = ledger_tables
    counting = CountingClient(dynamodb)
    runtime.container.dynamodb.override(counting)
    runtime.container.fee_schedule.override(FeeSchedule(290, {"EUR": 30}))
    event = payment_status_updated(amount="10.00", psp_fee_minor=59)
    order_id = event["detail"]["data"]["payment_order_id"]

    assert deliver(post.handler, event) == []
    assert (dict(counting.calls), dict(counting.items)) == ({"transact_write_items": 1}, {"Put": 1})  # was Put: 2
    counting.clear()
    assert deliver(post.handler, event) == []  # a redelivery: one refused write, nothing read
    assert dict(counting.calls) == {"transact_write_items": 1}
    counting.clear()
    records = read_stream(aws_client("dynamodbstreams"), stream_arn)
    assert totals.handler(stream_event(records), LambdaContext()) == {"batchItemFailures": []}
    # One marker (was two: the psp_fee entry's too) and a row per account: psp_clearing, the merchant's payable,
    # fee_revenue, psp_fees — the rows were the same with two entries (a batch's increments are merged per row).
    assert dict(counting.items) == {"Put": 1, "Update": 4}
    items = dynamodb.scan(TableName="ledger-events")["Items"]
    capture = journal_stream(order_id)
    assert sorted(i["stream_id"]["S"] for i in items) == [capture, totals_marker(capture)]  # no #psp-fee, no marker
    books = runtime.container.app().trial_balance()
    accounts = {(a.account, a.debits_minor, a.credits_minor) for a in books.accounts}
    assert accounts == {
        ("psp_clearing", 1000, 59),
        ("merchant_payable:merchant-1", 0, 941),
        ("fee_revenue", 0, 59),
        ("psp_fees", 59, 0),
    }


def test_an_old_journal_of_a_capture_and_its_psp_fee_entry_totals_the_same_as_todays_capture(
    ledger_tables: tuple[Any, str],
) -> None:
    """Journals written before the capture carried the PSP's fee: two entries, two streams, one write; their
    projection counts both, once, to the figures one entry gives now."""
    dynamodb, _ = ledger_tables
    counting = CountingClient(dynamodb)
    store = DynamoDBEventStore(counting, "ledger-events", EVENT_SCHEMAS)
    app = LedgerApp(store, DynamoDBAccountTotals(counting, "LedgerAccounts"), FeeSchedule())
    capture = PostEntry(EntryType.CAPTURE, "p-9", "p-9", "m-1", Money(1234, "EUR"), "e-9")
    old_fee = PostEntry(EntryType.PSP_FEE, "p-9", "p-9", "m-1", Money(66, "EUR"), "e-9")
    assert [p.entry_type for p in app.post_each([capture, old_fee], Cause("c", "e-9"))] == ["capture", "psp_fee"]
    assert dict(counting.items) == {"Put": 2}  # what a SUCCESS with a fee cost before
    new = replace(capture, payment_order_id="p-10", entry_key="p-10", psp_fee=Money(66, "EUR"))
    assert [p.entry_type for p in app.post_each([new], Cause("c", "e-10"))] == ["capture"]
    old_streams = [entry_stream(c.entry_type, c.payment_order_id, c.entry_key) for c in (capture, old_fee)]
    old = [e for stream in old_streams for e in store.load(stream).events]
    [today] = store.load(journal_stream("p-10")).events
    counting.clear()
    assert sorted(app.add_batch_to_totals(old)) == sorted(old_streams)
    assert counting.items["Put"] == 2  # a marker per entry
    old_accounts = {a.account: (a.debits_minor, a.credits_minor) for a in app.trial_balance().accounts}
    assert app.add_batch_to_totals([today]) == [journal_stream("p-10")]
    accounts = {a.account: (a.debits_minor, a.credits_minor) for a in app.trial_balance().accounts}
    assert accounts == {account: (2 * debits, 2 * credits) for account, (debits, credits) in old_accounts.items()}
    assert old_accounts == {"psp_clearing": (1234, 66), "merchant_payable:m-1": (0, 1234), "psp_fees": (66, 0)}


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
