"""The WalletBalances read model on DynamoDB (rows written by the wallet's event-store transactions)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

_deserializer = TypeDeserializer()


class DynamoDBBalances:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, merchant_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key={"merchant_id": {"S": merchant_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return {k: _deserializer.deserialize(v) for k, v in item.items()} if item else None
