"""What the ledger needs: its event store and the account totals read model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from ledger.domain.journal import AccountBalance, JournalEntryPosted
from payments_shared.eventstore import EventStore, ViewChange

__all__ = ["AccountTotals", "EventStore"]


class AccountTotals(Protocol):
    def entries_added(self, entries: Sequence[JournalEntryPosted]) -> list[ViewChange]:
        """The entries' postings added to their accounts' totals: one write per account and currency row for
        them all, committed with each entry's once-only marker by the totals projection."""
        ...

    def all(self) -> Iterable[AccountBalance]:
        """Every account's running debit/credit totals per currency."""
        ...
