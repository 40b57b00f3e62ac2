"""The deliverer's log (webhook-deliveries), read for GET /events/{id}: one row per event and endpoint, sort key
`<event_id>#<endpoint_id>` in the attribute named `event_id#endpoint_id` (health rows start `health#`)."""

from __future__ import annotations

from typing import Any

from notifier.ports import DeliveryStatus
from notifier.rows import from_attributes
from payments_shared.eventstore.refusals import refused_for_now

SORT_KEY = "event_id#endpoint_id"


def _maybe_int(value: Any) -> int | None:
    return None if value is None else int(value)


class DynamoDBDeliveryLog:
    def __init__(self, client: Any, table: str) -> None:
        self._client, self._table = client, table

    def of_event(self, merchant_id: str, event_id: str) -> list[DeliveryStatus]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "merchant_id = :m AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#sk": SORT_KEY},
            "ExpressionAttributeValues": {":m": {"S": merchant_id}, ":prefix": {"S": f"{event_id}#"}},
        }
        statuses: list[DeliveryStatus] = []
        while True:
            with refused_for_now(f"webhook deliveries of {merchant_id}"):
                page = self._client.query(**query)
            for item in page.get("Items", []):
                row = from_attributes(item)
                statuses.append(
                    DeliveryStatus(
                        endpoint_id=str(row[SORT_KEY]).split("#", 1)[1],
                        attempts=int(row.get("attempts", 0)),
                        last_attempt_at=_maybe_int(row.get("last_attempt_at")),
                        last_status=row.get("last_status"),
                        delivered_at=_maybe_int(row.get("delivered_at")),
                        parked=bool(row.get("parked", False)),
                    )
                )
            if "LastEvaluatedKey" not in page:
                return statuses
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
