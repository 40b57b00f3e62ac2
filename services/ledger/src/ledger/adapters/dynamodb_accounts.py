"""Account totals on DynamoDB (rows maintained by the journal's transactions with ADD updates)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.domain.journal import AccountBalance
from ledger.read_model import AccountRows


class DynamoDBAccountTotals(AccountRows):
    def __init__(self, client: Any, table_name: str) -> None:
        super().__init__(table_name)  # self._table
        self._client = client

    def all(self) -> Iterator[AccountBalance]:
        scan: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        while True:
            page = self._client.scan(**scan)
            for item in page.get("Items", []):
                yield AccountBalance(
                    account=item["account"]["S"],
                    currency=item["currency"]["S"],
                    debits_minor=int(item.get("debits_minor", {}).get("N", "0")),
                    credits_minor=int(item.get("credits_minor", {}).get("N", "0")),
                )
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
