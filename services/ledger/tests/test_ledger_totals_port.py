"""The account-totals port's contract, run on every adapter (in memory, DynamoDB on moto): what an entry adds,
committed with the store's once-only marker, is what the totals read back — once, however often it is added."""

from __future__ import annotations

import pytest

from ledger.adapters.dynamodb_accounts import DynamoDBAccountTotals
from ledger.adapters.memory_accounts import InMemoryAccountTotals
from payments_shared.eventstore import DuplicateRecord, ExtraWrite
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.stores import ADAPTERS, event_store, table

POSTINGS = [
    {"account": "psp_clearing", "side": "DEBIT", "amount_minor": 1000, "currency": "EUR"},
    {"account": "merchant_payable:m-1", "side": "CREDIT", "amount_minor": 971, "currency": "EUR"},
    {"account": "fee_revenue", "side": "CREDIT", "amount_minor": 29, "currency": "EUR"},
]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_entry_adds_to_its_accounts_once(adapter: str) -> None:
    with event_store(adapter, "ledger-events", table("LedgerAccounts", "account", "currency")) as (store, client):
        totals = (
            InMemoryAccountTotals(store, "LedgerAccounts")
            if isinstance(store, InMemoryEventStore)
            else DynamoDBAccountTotals(client, "LedgerAccounts")
        )
        for entry in ("journal-p-1", "journal-p-2"):
            store.append(f"totals#{entry}", 0, [], [store.claim(f"totals#{entry}"), *totals.entry_added(POSTINGS)])
        with pytest.raises(DuplicateRecord):  # the same entry again: refused whole, nothing added
            again: list[ExtraWrite] = [store.claim("totals#journal-p-1"), *totals.entry_added(POSTINGS)]
            store.append("totals#journal-p-1", 0, [], again)
        found = {(a.account, a.currency): (a.debits_minor, a.credits_minor) for a in totals.all()}
        assert found == {
            ("psp_clearing", "EUR"): (2000, 0),
            ("merchant_payable:m-1", "EUR"): (0, 1942),
            ("fee_revenue", "EUR"): (0, 58),
        }
