"""What the wallet needs: its event store and the balances read model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from payments_shared.eventstore import EventStore

__all__ = ["BalancesReadModel", "EventStore", "Sleep"]

Sleep = Callable[[float], None]


class BalancesReadModel(Protocol):
    def get(self, merchant_id: str) -> dict[str, Any] | None:
        """The merchant's WalletBalances row, or None."""
        ...
