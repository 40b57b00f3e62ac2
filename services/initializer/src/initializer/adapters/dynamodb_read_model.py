"""The ShowMeTheMoney read model on DynamoDB (rows are written by the event store's transaction)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

_deserializer = TypeDeserializer()


class DynamoDBOrderReadModel:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, payment_order_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key={"payment_order_id": {"S": payment_order_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return {k: _deserializer.deserialize(v) for k, v in item.items()} if item else None
