"""The LedgerAccounts rows: what one posted journal entry adds to its accounts' running totals.

One definition for the totals projection (`LedgerApp.add_to_totals`) and for an operator's rebuild of the
totals from the journal (`payments-ops rebuild ledger-totals`). An entry counts once it carries the marker
`totals#<journal stream>`, written in the same transaction as its increments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger.domain.journal import Side
from payments_shared.eventstore import IncrementRecord

KEY = ("account", "currency")


def totals_marker(journal_stream: str) -> str:
    return f"totals#{journal_stream}"


def account_increments(postings: Sequence[Mapping[str, Any]]) -> list[tuple[dict[str, str], dict[str, int]]]:
    """(row key, {debits_minor, credits_minor}) per posting of a JournalEntryPosted event."""
    return [
        (
            {"account": p["account"], "currency": p["currency"]},
            {
                "debits_minor": p["amount_minor"] if p["side"] == Side.DEBIT else 0,
                "credits_minor": p["amount_minor"] if p["side"] == Side.CREDIT else 0,
            },
        )
        for p in postings
    ]


class AccountRows:
    """The writes that add a posted entry to its accounts' rows, committed with the entry's once-only marker
    (the event store runs them). The totals adapters (DynamoDB, in memory) are this plus their reads."""

    def __init__(self, table: str) -> None:
        self._table = table

    def entry_added(self, postings: Sequence[Mapping[str, Any]]) -> list[IncrementRecord]:
        return [IncrementRecord(self._table, key, deltas) for key, deltas in account_increments(postings)]
