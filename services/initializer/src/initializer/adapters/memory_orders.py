"""The orders' read model in memory (tests, benchmarks): rows the in-memory event store writes in the order's
appends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from initializer.domain.order import PaymentInitiationEvent, PaymentOrder
from initializer.rows import KEY, VERSION, order_key, order_row, presumed_fields, status_fields
from payments_shared.eventstore.memory import InMemoryRows, RowWrite


class InMemoryPaymentOrders:
    def __init__(self, table: str = "ShowMeTheMoney") -> None:
        self.rows = InMemoryRows(table)

    def placed(self, order: PaymentOrder, initiation: PaymentInitiationEvent, version: int, at: datetime) -> RowWrite:
        row = order_row(order, version, initiation.data, at.isoformat())
        return self.rows.put(order_key(row.pop(KEY)), row)

    def status_recorded(
        self, order: PaymentOrder, version: int, at: datetime, presumed: tuple[PaymentOrder, int] | None = None
    ) -> RowWrite:
        expected = None if presumed is None else presumed_fields(*presumed)
        fields = status_fields(order, version, at.isoformat())
        return self.rows.set(order_key(order.payment_order_id), fields, expected, VERSION if presumed else None)

    def get(self, payment_order_id: str) -> dict[str, Any] | None:
        return self.rows.get(order_key(payment_order_id))

    def all(self) -> list[dict[str, Any]]:
        """Every order's row, as an operator scans the table."""
        return self.rows.all()
