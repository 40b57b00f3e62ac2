"""The WalletBalances read model kept by the in-memory event store."""

from __future__ import annotations

from typing import Any

from payments_shared.eventstore.memory import InMemoryEventStore
from wallet.read_model import BalanceRows


class InMemoryBalances(BalanceRows):
    def __init__(self, store: InMemoryEventStore, table_name: str) -> None:
        super().__init__(table_name)  # self._table
        self._store = store

    def shards(self, merchant_id: str) -> list[dict[str, Any]]:
        return [row for row in self._store.records(self._table) if row["merchant_id"] == merchant_id]
