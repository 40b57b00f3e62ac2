"""Account totals on DynamoDB: ADD updates to the LedgerAccounts rows, committed with the projection's marker."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ledger.domain.journal import AccountBalance, JournalEntryPosted
from ledger.rows import merged_increments
from payments_shared.eventstore import ViewChange
from payments_shared.eventstore.dynamodb import AddToItem
from payments_shared.eventstore.refusals import refused_for_now


class DynamoDBAccountTotals:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def entries_added(self, entries: Sequence[JournalEntryPosted]) -> list[ViewChange]:
        # ADD, not a read and a put: every entry adds to psp_clearing, and concurrent adds never conflict. One
        # ADD per row for the whole batch: a batch costs its rows, not its postings.
        return [AddToItem(self._table, key, deltas) for key, deltas in merged_increments(e.postings for e in entries)]

    def all(self) -> Iterator[AccountBalance]:
        scan: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        while True:
            with refused_for_now(self._table):
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
