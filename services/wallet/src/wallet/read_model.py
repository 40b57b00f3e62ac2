"""The WalletBalances row of one wallet shard, derived from the shard's folded events.

One definition for the rows the app writes with each credit and for the rows an operator rebuilds from the
event store (`payments-ops rebuild wallet-balances`).
"""

from __future__ import annotations

from typing import Any

from wallet.domain.wallet import Wallet

KEY = ("merchant_id", "shard")


def shard_name(shard: int) -> str:
    return f"{shard:02d}"


def balance_row(wallet: Wallet, shard: int, updated_at: str) -> dict[str, Any]:
    return {"merchant_id": wallet.merchant_id, "shard": shard_name(shard), "balances": dict(wallet.balances),
            "version": wallet.version, "updated_at": updated_at}  # fmt: skip
