"""The WalletBalances row of one wallet shard: the write side's row layout.

One definition for the rows the credits write (both read-model adapters) and for the rows an operator rebuilds
from the event store (`payments-ops rebuild wallet-balances`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wallet.domain.streams import shard_name

KEY = ("merchant_id", "shard")


def balance_key(merchant_id: str, shard: int) -> dict[str, Any]:
    return {"merchant_id": merchant_id, "shard": shard_name(shard)}


def balance_row(
    merchant_id: str, shard: int, balances: Mapping[str, int], version: int, updated_at: str
) -> dict[str, Any]:
    """The shard's row: its balances per currency after the shard's event at `version`."""
    return {
        **balance_key(merchant_id, shard),
        "balances": dict(balances),
        "version": version,
        "updated_at": updated_at,
    }
