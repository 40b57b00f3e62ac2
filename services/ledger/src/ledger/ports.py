"""What the ledger needs: its event store and the account totals read model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ledger.domain.journal import AccountBalance, JournalEntryPosted
from payments_shared.eventstore import EventStore, ViewChange

__all__ = ["AccountTotals", "EventStore"]


class AccountTotals(Protocol):
    def entry_added(self, entry: JournalEntryPosted) -> list[ViewChange]:
        """The entry's postings added to their accounts' totals: the rows' writes, committed with the entry's
        once-only marker by the totals projection."""
        ...

    def all(self) -> Iterable[AccountBalance]:
        """Every account's running debit/credit totals per currency."""
        ...
