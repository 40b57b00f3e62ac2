"""The WalletBalances row of one wallet shard, derived from the shard's folded events.

One definition for the rows the app writes with each credit and for the rows an operator rebuilds from the
event store (`payments-ops rebuild wallet-balances`).
"""

from __future__ import annotations

from typing import Any

from payments_shared.eventstore import PutRecord
from wallet.domain.wallet import Wallet

KEY = ("merchant_id", "shard")


def shard_name(shard: int) -> str:
    return f"{shard:02d}"


def balance_row(wallet: Wallet, shard: int, updated_at: str) -> dict[str, Any]:
    return {
        "merchant_id": wallet.merchant_id,
        "shard": shard_name(shard),
        "balances": dict(wallet.balances),
        "version": wallet.version,
        "updated_at": updated_at,
    }


class BalanceRows:
    """The write that keeps a shard's row, committed in the credit's own transaction (the event store runs it).
    The read-model adapters (DynamoDB, in memory) are this plus their reads."""

    def __init__(self, table: str) -> None:
        self._table = table

    def shard_written(self, wallet: Wallet, shard: int, updated_at: str) -> PutRecord:
        fields = balance_row(wallet, shard, updated_at)
        return PutRecord(self._table, {k: fields.pop(k) for k in KEY}, fields)
