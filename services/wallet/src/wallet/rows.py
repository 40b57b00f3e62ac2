"""The WalletBalances row of one wallet shard: the write side's row layout.

One definition for the rows the credits write (both read-model adapters) and for the rows an operator rebuilds
from the event store (`payments-ops rebuild wallet-balances`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wallet.domain.payout import row_name
from wallet.domain.streams import shard_name

KEY = ("merchant_id", "shard")


def balance_key(merchant_id: str, shard: int) -> dict[str, Any]:
    return {"merchant_id": merchant_id, "shard": shard_name(shard)}


def payouts_key(merchant_id: str, currency: str) -> dict[str, Any]:
    """The row of a merchant's payouts in one currency, beside its shards' (whose names are digits)."""
    return {"merchant_id": merchant_id, "shard": row_name(currency)}


def balance_row(
    merchant_id: str,
    shard: int,
    balances: Mapping[str, int],
    version: int,
    updated_at: str,
    pending: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    """The shard's row: its balances per currency after the shard's event at `version`, and its credits not
    yet settled by settlement bucket (wallet.domain.settlement)."""
    row = {**balance_key(merchant_id, shard), "balances": dict(balances), "version": version, "updated_at": updated_at}
    if pending:  # absent, as in rows written before settlement, when nothing is pending
        row["pending"] = {currency: dict(buckets) for currency, buckets in pending.items()}
    return row


def payouts_row(merchant_id: str, currency: str, paid_out: int, version: int, updated_at: str) -> dict[str, Any]:
    """The payouts row: what was paid out is out of the balance (the wallet is what we owe, as the ledger's
    merchant_payable), so the row holds it negative in `balances` and as it is in `paid_out`."""
    return {
        **payouts_key(merchant_id, currency),
        "balances": {currency: -paid_out},
        "paid_out": {currency: paid_out},
        "version": version,
        "updated_at": updated_at,
    }
