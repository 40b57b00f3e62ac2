"""The WalletBalances read model in memory (tests, benchmarks): rows the in-memory event store writes in the
credit's append."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from payments_shared.eventstore.memory import InMemoryRows, RowWrite
from wallet.rows import balance_key, balance_row, payouts_key, payouts_row


def _now() -> datetime:
    return datetime.now(UTC)


class InMemoryBalances:
    def __init__(self, table_name: str = "WalletBalances", clock: Callable[[], datetime] = _now) -> None:
        self.rows = InMemoryRows(table_name)
        self._clock = clock

    def shard_credited(
        self,
        merchant_id: str,
        shard: int,
        balances: Mapping[str, int],
        version: int,
        pending: Mapping[str, Mapping[str, int]] | None = None,
    ) -> RowWrite:
        row = balance_row(merchant_id, shard, balances, version, self._clock().isoformat(), pending)
        return self.rows.put(balance_key(merchant_id, shard), row)

    def paid_out(self, merchant_id: str, currency: str, paid_out: int, version: int) -> RowWrite:
        row = payouts_row(merchant_id, currency, paid_out, version, self._clock().isoformat())
        return self.rows.put(payouts_key(merchant_id, currency), row)

    def shards(self, merchant_id: str) -> list[dict[str, Any]]:
        return [row for row in self.rows.all() if row["merchant_id"] == merchant_id]
