"""The payment results in DynamoDB (BreakingTheBank)."""

from __future__ import annotations

from datetime import datetime

from finalizer.domain.payment import PaymentDecided
from finalizer.rows import KEY, result_row
from payments_shared.eventstore.dynamodb import PutItem


class DynamoDBPaymentResults:
    """The item write that records a payment's result row, committed with its outcome event (the event store
    runs it). Rows are only written here, never read: operators read the table."""

    def __init__(self, table: str) -> None:
        self._table = table

    def result_recorded(self, outcome: PaymentDecided, version: int, at: datetime) -> PutItem:
        fields = result_row(outcome.data, version, at.isoformat())
        return PutItem(self._table, {KEY: fields.pop(KEY)}, fields)
