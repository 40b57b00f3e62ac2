"""The merchant-events table on DynamoDB: each event once, listed newest first by its time-ordered id."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from notifier.domain.catalog import MerchantEvent
from notifier.ports import EventPage
from notifier.rows import event_from_row, event_row, from_attributes, to_attributes
from payments_shared.eventstore.refusals import refused_for_now


def _events_of(merchant_id: str) -> str:
    return f"merchant events of {merchant_id}"


class DynamoDBMerchantEvents:
    def __init__(self, client: Any, table: str) -> None:
        self._client, self._table = client, table

    def record(self, event: MerchantEvent) -> bool:
        try:
            with refused_for_now(_events_of(event.merchant_id)):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_attributes(event_row(event)),
                    ConditionExpression="attribute_not_exists(event_id)",
                )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False  # recorded before: the first body stays, byte for byte
            raise
        return True

    def get(self, merchant_id: str, event_id: str) -> MerchantEvent | None:
        with refused_for_now(_events_of(merchant_id)):
            item = self._client.get_item(
                TableName=self._table,
                Key={"merchant_id": {"S": merchant_id}, "event_id": {"S": event_id}},
                ConsistentRead=True,
            ).get("Item")
        return event_from_row(from_attributes(item)) if item else None

    def page(
        self,
        merchant_id: str,
        *,
        low: str,
        high: str,
        event_type: str | None,
        limit: int,
        starting_after: str | None,
    ) -> EventPage:
        if starting_after is not None:
            # Ids are unique and all the same length: the next page is at most the cursor, the cursor dropped.
            high = min(high, starting_after)
            if high < low:
                return EventPage([], False)
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "merchant_id = :m AND event_id BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":m": {"S": merchant_id}, ":low": {"S": low}, ":high": {"S": high}},
            "ScanIndexForward": False,  # newest first
            "Limit": limit + 2,
        }
        if event_type is not None:
            query["FilterExpression"] = "#type = :type"
            query["ExpressionAttributeNames"] = {"#type": "type"}
            query["ExpressionAttributeValues"][":type"] = {"S": event_type}
        found: list[MerchantEvent] = []
        while len(found) <= limit:  # one more than asked says whether there are more
            with refused_for_now(_events_of(merchant_id)):
                page = self._client.query(**query)
            found += [
                event_from_row(from_attributes(item))
                for item in page.get("Items", [])
                if item["event_id"]["S"] != starting_after
            ]
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return EventPage(found[:limit], len(found) > limit)
