"""The ShowMeTheMoney read model kept by the in-memory event store (tests, benchmarks)."""

from __future__ import annotations

from typing import Any

from initializer.read_model import OrderRows
from payments_shared.eventstore.memory import InMemoryEventStore


class InMemoryOrderReadModel(OrderRows):
    def __init__(self, store: InMemoryEventStore, table_name: str) -> None:
        super().__init__(table_name)  # self._table
        self._store = store

    def get(self, payment_order_id: str) -> dict[str, Any] | None:
        return self._store.get_record(self._table, {"payment_order_id": payment_order_id})
