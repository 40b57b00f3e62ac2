"""The account-totals port's contract, run on every adapter (in memory; DynamoDB on moto): what an entry adds,
committed with the projection's once-only marker, is what the totals read back — once, however often it is
added."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from ledger.adapters.dynamodb_accounts import DynamoDBAccountTotals
from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.domain.journal import JournalEntryPosted
from ledger.domain.streams import journal_stream, totals_marker
from ledger.ports import AccountTotals
from payments_shared.eventstore import DuplicateRecord, EventStore
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.memory import InMemoryEventStore

POSTINGS: list[Mapping[str, Any]] = [
    {"account": "psp_clearing", "side": "DEBIT", "amount_minor": 1000, "currency": "EUR"},
    {"account": "merchant_payable:m-1", "side": "CREDIT", "amount_minor": 971, "currency": "EUR"},
    {"account": "fee_revenue", "side": "CREDIT", "amount_minor": 29, "currency": "EUR"},
]


def entry(payment_order_id: str) -> JournalEntryPosted:
    return JournalEntryPosted(payment_order_id, f"event-of-{payment_order_id}", POSTINGS, "capture", payment_order_id)


class AccountTotalsContract:
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, AccountTotals]]:
        """(the event store, the totals adapter whose writes it commits)"""
        raise NotImplementedError

    def test_no_entry_no_accounts(self, adapter: tuple[EventStore, AccountTotals]) -> None:
        _, totals = adapter
        assert list(totals.all()) == []

    def test_an_entry_adds_to_its_accounts_once(self, adapter: tuple[EventStore, AccountTotals]) -> None:
        store, totals = adapter
        for payment in ("p-1", "p-2"):
            store.record(totals.entries_added([entry(payment)]), totals_marker(journal_stream(payment)))
        with pytest.raises(DuplicateRecord):  # the same entry again: refused whole, nothing added
            store.record(totals.entries_added([entry("p-1")]), totals_marker(journal_stream("p-1")))
        found = {(a.account, a.currency): (a.debits_minor, a.credits_minor) for a in totals.all()}
        assert found == {
            ("psp_clearing", "EUR"): (2000, 0),
            ("merchant_payable:m-1", "EUR"): (0, 1942),
            ("fee_revenue", "EUR"): (0, 58),
        }

    def test_an_entrys_writes_commit_only_with_its_marker(self, adapter: tuple[EventStore, AccountTotals]) -> None:
        store, totals = adapter
        totals.entries_added([entry("p-1")])  # made, never committed
        assert list(totals.all()) == []

    def test_a_batch_of_entries_adds_one_write_per_account_row(self, adapter: tuple[EventStore, AccountTotals]) -> None:
        store, totals = adapter
        batch = [entry("p-1"), entry("p-2"), entry("p-3")]
        changes = totals.entries_added(batch)
        assert len(changes) == len(POSTINGS)  # three entries, three rows: a transaction names an item once
        store.record(changes, *(totals_marker(journal_stream(p)) for p in ("p-1", "p-2", "p-3")))
        found = {(a.account, a.currency): (a.debits_minor, a.credits_minor) for a in totals.all()}
        assert found == {
            ("psp_clearing", "EUR"): (3000, 0),
            ("merchant_payable:m-1", "EUR"): (0, 2913),
            ("fee_revenue", "EUR"): (0, 87),
        }


class TestInMemoryAccountTotals(AccountTotalsContract):
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, AccountTotals]]:
        yield InMemoryEventStore(), InMemoryAccountTotals("LedgerAccounts")


class TestDynamoDBAccountTotals(AccountTotalsContract):
    @pytest.fixture
    def adapter(self, ledger_tables: tuple[Any, str]) -> Iterator[tuple[EventStore, AccountTotals]]:
        dynamodb, _ = ledger_tables
        yield DynamoDBEventStore(dynamodb, "ledger-events"), DynamoDBAccountTotals(dynamodb, "LedgerAccounts")
