"""The ShowMeTheMoney read model on DynamoDB (rows are written by the event store's transaction)."""

from __future__ import annotations

from typing import Any

from payments_shared.eventstore.dynamodb import get_row


class DynamoDBOrderReadModel:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, payment_order_id: str) -> dict[str, Any] | None:
        return get_row(self._client, self._table, {"payment_order_id": payment_order_id})
