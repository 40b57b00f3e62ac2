"""What the wallet needs: its event store and the balances read model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from payments_shared.eventstore import EventStore, ViewChange

__all__ = ["EventStore", "WalletBalances"]


class WalletBalances(Protocol):
    def shard_credited(
        self,
        merchant_id: str,
        shard: int,
        balances: Mapping[str, int],
        version: int,
        pending: Mapping[str, Mapping[str, int]] | None = None,
    ) -> ViewChange:
        """The merchant's shard now holds `balances` (`pending` of them not settled yet), after its event at
        `version`: the row's write, committed in the credit's own append."""
        ...

    def paid_out(self, merchant_id: str, currency: str, paid_out: int, version: int) -> ViewChange:
        """The merchant's payouts in `currency` now sum to `paid_out`, after the payouts stream's event at
        `version`: the payouts row's write, committed in the payout's own append."""
        ...

    def shards(self, merchant_id: str) -> list[dict[str, Any]]:
        """The merchant's WalletBalances rows, one per wallet shard credited so far (none: no wallet)."""
        ...
