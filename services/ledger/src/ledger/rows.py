"""The LedgerAccounts rows: what one posted journal entry adds to its accounts' running totals (write side).

One definition for both totals adapters (DynamoDB, in memory) and for an operator's rebuild of the totals from
the journal (`payments-ops rebuild ledger-totals`). An entry counts once the projection has claimed its marker
(`totals_marker`, ledger.domain.streams), in the same transaction as its increments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ledger.domain.journal import Side
from ledger.domain.streams import totals_marker

__all__ = ["KEY", "account_increments", "merged_increments", "totals_marker"]

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


def merged_increments(
    entries: Iterable[Sequence[Mapping[str, Any]]],
) -> list[tuple[dict[str, str], dict[str, int]]]:
    """(row key, summed {debits_minor, credits_minor}) per account and currency the entries' postings touch: one
    write per row for a whole batch (a transaction may not name an item twice), in first-touched order."""
    merged: dict[tuple[str, str], tuple[dict[str, str], dict[str, int]]] = {}
    for postings in entries:
        for key, deltas in account_increments(postings):
            _, total = merged.setdefault((key["account"], key["currency"]), (key, {name: 0 for name in deltas}))
            for name, delta in deltas.items():
                total[name] += delta
    return list(merged.values())
