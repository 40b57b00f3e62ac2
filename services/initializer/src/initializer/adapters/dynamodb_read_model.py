"""The ShowMeTheMoney read model on DynamoDB (rows are written by the event store's transaction)."""

from __future__ import annotations

from typing import Any

from initializer.read_model import OrderRows
from payments_shared.eventstore.dynamodb import get_row


class DynamoDBOrderReadModel(OrderRows):
    def __init__(self, client: Any, table_name: str) -> None:
        super().__init__(table_name)  # self._table
        self._client = client

    def get(self, payment_order_id: str) -> dict[str, Any] | None:
        return get_row(self._client, self._table, {"payment_order_id": payment_order_id})
