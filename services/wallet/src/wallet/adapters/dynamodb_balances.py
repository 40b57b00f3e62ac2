"""The WalletBalances read model on DynamoDB (rows written by the wallet's event-store transactions)."""

from __future__ import annotations

from typing import Any

from payments_shared.eventstore.dynamodb import query_rows
from wallet.read_model import BalanceRows


class DynamoDBBalances(BalanceRows):
    def __init__(self, client: Any, table_name: str) -> None:
        super().__init__(table_name)  # self._table
        self._client = client

    def shards(self, merchant_id: str) -> list[dict[str, Any]]:
        return query_rows(self._client, self._table, "merchant_id", merchant_id)
