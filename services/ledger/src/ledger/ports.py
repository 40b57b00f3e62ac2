"""What the ledger needs: its event store and a view of account totals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ledger.domain.journal import AccountBalance
from payments_shared.eventstore import EventStore

__all__ = ["AccountTotals", "EventStore"]


class AccountTotals(Protocol):
    def all(self) -> Iterable[AccountBalance]:
        """Every account's running debit/credit totals per currency."""
        ...
