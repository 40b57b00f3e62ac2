"""What the ledger needs: its event store and a view of account totals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ledger.domain.journal import AccountBalance
from payments_shared.eventstore import EventStore, IncrementRecord

__all__ = ["AccountTotals", "EventStore"]


class AccountTotals(Protocol):
    def all(self) -> Iterable[AccountBalance]:
        """Every account's running debit/credit totals per currency."""
        ...

    def entry_added(self, postings: Sequence[Mapping[str, Any]]) -> list[IncrementRecord]:
        """The writes that add an entry's postings to the totals, for the projection's own append."""
        ...
