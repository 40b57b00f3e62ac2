"""`payments-ops trace` shows a payment's ledger entries in both shapes the journal has held: an older payment's
capture and its psp_fee entry (two streams, before 2026-12-06), and today's capture carrying the PSP's fee (one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from ops.payment_trace import trace_payment

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import EVENT_SCHEMAS, EntryType, PostEntry
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, table_definition
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_shared.topology import EVENT_STORES
from payments_testing.aws import aws_client, fake_credentials


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    fake_credentials()
    with mock_aws():
        client = aws_client("dynamodb")
        for name in EVENT_STORES.values():
            client.create_table(**table_definition(name))
        yield client


def test_an_older_payments_psp_fee_entry_and_todays_capture_carrying_it_are_both_traced(dynamodb: Any) -> None:
    store = DynamoDBEventStore(dynamodb, EVENT_STORES["ledger"], EVENT_SCHEMAS)
    app = LedgerApp(store, InMemoryAccountTotals(), FeeSchedule())
    old_capture = PostEntry(EntryType.CAPTURE, "p-old", "p-old", "m-1", Money(1000, "EUR"), "e-old")
    old_fee = PostEntry(EntryType.PSP_FEE, "p-old", "p-old", "m-1", Money(59, "EUR"), "e-old")
    app.post_each([old_capture, old_fee], Cause("c-old", "e-old"))
    fee = Money(59, "EUR")
    today = PostEntry(EntryType.CAPTURE, "p-new", "p-new", "m-1", Money(1000, "EUR"), "e-new", psp_fee=fee)
    app.post_each([today], Cause("c-new", "e-new"))

    assert sorted(e.stream_id for e in trace_payment(dynamodb, "p-old")) == ["journal-p-old", "journal-p-old#psp-fee"]
    assert [(e.service, e.stream_id, e.event_type) for e in trace_payment(dynamodb, "p-new")] == [
        ("ledger", "journal-p-new", "JournalEntryPosted")
    ]
