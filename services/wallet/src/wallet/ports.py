"""What the wallet needs: its event store and the balances read model."""

from __future__ import annotations

from typing import Any, Protocol

from payments_shared.eventstore import EventStore, PutRecord
from wallet.domain.wallet import Wallet

__all__ = ["BalancesReadModel", "EventStore"]


class BalancesReadModel(Protocol):
    def shards(self, merchant_id: str) -> list[dict[str, Any]]:
        """The merchant's WalletBalances rows, one per wallet shard credited so far (none: no wallet)."""
        ...

    def shard_written(self, wallet: Wallet, shard: int, updated_at: str) -> PutRecord:
        """The write that records a shard's new balances, for the credit's own append."""
        ...
