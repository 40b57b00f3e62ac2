"""The payment results kept in memory (tests, benchmarks): rows the in-memory event store writes in the
outcome's append."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from finalizer.domain.payment import PaymentActionRequired, PaymentAuthorized, PaymentDecided
from finalizer.rows import AUTHORIZED, AWAITING, AWAITING_SINCE, KEY, action_row, authorized_row, result_key, result_row
from payments_shared.eventstore.memory import InMemoryRows, RowWrite


class InMemoryPaymentResults:
    def __init__(self, table: str = "BreakingTheBank") -> None:
        self.rows = InMemoryRows(table)

    def result_recorded(self, outcome: PaymentDecided, version: int, at: datetime) -> RowWrite:
        row = result_row(outcome.data, version, at.isoformat())
        return self.rows.put(result_key(row[KEY]), row)

    def action_required(self, action: PaymentActionRequired, version: int, at: datetime) -> RowWrite:
        row = action_row(action.data, version, at.isoformat())
        return self.rows.put(result_key(row[KEY]), row)

    def authorized(self, authorized: PaymentAuthorized, version: int, at: datetime) -> RowWrite:
        row = authorized_row(authorized.data, version, at.isoformat())
        return self.rows.put(result_key(row[KEY]), row)

    def awaiting_since_before(self, cutoff: datetime, limit: int) -> list[str]:
        return self._since_before(AWAITING, cutoff, limit)

    def authorized_since_before(self, cutoff: datetime, limit: int) -> list[str]:
        return self._since_before(AUTHORIZED, cutoff, limit)

    def _since_before(self, partition: str, cutoff: datetime, limit: int) -> list[str]:
        rows = sorted(
            (row for row in self.rows.all() if row.get(AWAITING) == partition), key=lambda row: row[AWAITING_SINCE]
        )
        return [row[KEY] for row in rows if row[AWAITING_SINCE] < cutoff.isoformat()][:limit]

    def result(self, payment_order_id: str) -> dict[str, Any] | None:
        """A payment's row, as an operator reads it in the table."""
        return self.rows.get(result_key(payment_order_id))

    def all(self) -> list[dict[str, Any]]:
        return self.rows.all()
