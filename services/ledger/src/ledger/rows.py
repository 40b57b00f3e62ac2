"""The LedgerAccounts rows: what one posted journal entry adds to its accounts' running totals (write side).

One definition for both totals adapters (DynamoDB, in memory) and for an operator's rebuild of the totals from
the journal (`payments-ops rebuild ledger-totals`). An entry counts once the projection has claimed its marker
(`totals_marker`, ledger.domain.streams), in the same transaction as its increments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger.domain.journal import Side
from ledger.domain.streams import totals_marker

__all__ = ["KEY", "account_increments", "totals_marker"]

KEY = ("account", "currency")


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
