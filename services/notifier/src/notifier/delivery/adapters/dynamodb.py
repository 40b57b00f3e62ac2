"""The deliverer's tables on DynamoDB, in the shapes of the webhooks contract (issue 31).

merchant-events and webhook-endpoints are read (the record function and the API write them); webhook-deliveries
is the deliverer's own: one row per event and endpoint (attempts, last status, delivered_at, parked) and one
health row per endpoint (sk `health#<endpoint_id>`, never an event id, which starts `evt_`).
Reads are strongly consistent: a rotation or a deletion a moment ago must apply to this attempt.
"""

from __future__ import annotations

from typing import Any

from notifier.delivery.health import HEALTHY, EndpointHealth
from notifier.delivery.ports import DeliveryRequest, Endpoint, Secret, StoredEvent

HEALTH_PREFIX = "health#"


def _key(merchant_id: str, sort_name: str, sort_value: str) -> dict[str, Any]:
    return {"merchant_id": {"S": merchant_id}, sort_name: {"S": sort_value}}


class DynamoDBMerchantEvents:
    def __init__(self, client: Any, table: str) -> None:
        self._client, self._table = client, table

    def event(self, merchant_id: str, event_id: str) -> StoredEvent | None:
        item = self._client.get_item(
            TableName=self._table, Key=_key(merchant_id, "event_id", event_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return StoredEvent(type=item["type"]["S"], body=item["body"]["S"].encode())


class DynamoDBWebhookEndpoints:
    def __init__(self, client: Any, table: str) -> None:
        self._client, self._table = client, table

    def endpoint(self, merchant_id: str, endpoint_id: str) -> Endpoint | None:
        item = self._client.get_item(
            TableName=self._table, Key=_key(merchant_id, "endpoint_id", endpoint_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        secrets = tuple(
            Secret(s["M"]["secret"]["S"], int(s["M"]["expires_at"]["N"]) if "expires_at" in s["M"] else None)
            for s in item.get("secrets", {}).get("L", [])
        )
        return Endpoint(
            url=item["url"]["S"],
            enabled_events=tuple(e["S"] for e in item.get("enabled_events", {}).get("L", [])),
            status=item.get("status", {}).get("S", "enabled"),
            secrets=secrets,
        )


class DynamoDBDeliveryLog:
    def __init__(self, client: Any, table: str) -> None:
        self._client, self._table = client, table

    def _sort_key(self, request: DeliveryRequest) -> str:
        return f"{request.event_id}#{request.endpoint_id}"

    def record_attempt(self, request: DeliveryRequest, at: int, status: str, *, delivered: bool) -> None:
        update = "ADD attempts :one SET last_attempt_at = :at, last_status = :status"
        values: dict[str, Any] = {":one": {"N": "1"}, ":at": {"N": str(at)}, ":status": {"S": status}}
        if delivered:
            update += ", delivered_at = if_not_exists(delivered_at, :at)"  # the first 2xx; a duplicate keeps it
        self._client.update_item(
            TableName=self._table,
            Key=_key(request.merchant_id, "event_id#endpoint_id", self._sort_key(request)),
            UpdateExpression=update,
            ExpressionAttributeValues=values,
        )

    def record_parked(self, request: DeliveryRequest, at: int, status: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=_key(request.merchant_id, "event_id#endpoint_id", self._sort_key(request)),
            UpdateExpression="SET parked = :yes, last_status = :status, parked_at = :at",
            ExpressionAttributeValues={":yes": {"BOOL": True}, ":status": {"S": status}, ":at": {"N": str(at)}},
        )


class DynamoDBEndpointHealth:
    def __init__(self, client: Any, table: str) -> None:
        self._client, self._table = client, table

    def _key(self, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
        return _key(merchant_id, "event_id#endpoint_id", HEALTH_PREFIX + endpoint_id)

    def health(self, merchant_id: str, endpoint_id: str) -> EndpointHealth:
        item = self._client.get_item(TableName=self._table, Key=self._key(merchant_id, endpoint_id)).get("Item")
        if item is None or "retry_not_before" not in item:
            return HEALTHY
        return EndpointHealth(
            failing_since=int(item["failing_since"]["N"]),
            retry_not_before=int(item["retry_not_before"]["N"]),
            consecutive_failures=int(item["consecutive_failures"]["N"]),
        )

    def save(self, merchant_id: str, endpoint_id: str, health: EndpointHealth) -> None:
        # Last writer wins: two invocations failing at once both push retry_not_before out, which is the point.
        # An update, not a put: the attempts in flight on the same row are counted by claim/release.
        self._client.update_item(
            TableName=self._table,
            Key=self._key(merchant_id, endpoint_id),
            UpdateExpression="SET failing_since = :since, retry_not_before = :not_before, consecutive_failures = :n",
            ExpressionAttributeValues={
                ":since": {"N": str(health.failing_since or 0)},
                ":not_before": {"N": str(health.retry_not_before)},
                ":n": {"N": str(health.consecutive_failures)},
            },
        )

    def clear(self, merchant_id: str, endpoint_id: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=self._key(merchant_id, endpoint_id),
            UpdateExpression="REMOVE failing_since, retry_not_before, consecutive_failures",
        )

    def claim(self, merchant_id: str, endpoint_id: str, *, now: int, cap: int, lease_s: int) -> bool:
        key, lease = self._key(merchant_id, endpoint_id), {"N": str(now + lease_s)}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET in_flight = if_not_exists(in_flight, :zero) + :one, lease_until = :lease",
                ConditionExpression="attribute_not_exists(in_flight) OR in_flight < :cap",
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":cap": {"N": str(cap)},
                    ":lease": lease,
                },
            )
            return True
        except self._client.exceptions.ConditionalCheckFailedException:
            pass
        try:  # the count is stale when no claim was renewed within a lease (an invocation died mid-attempt)
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET in_flight = :one, lease_until = :lease",
                ConditionExpression="lease_until < :now",
                ExpressionAttributeValues={":one": {"N": "1"}, ":lease": lease, ":now": {"N": str(now)}},
            )
            return True
        except self._client.exceptions.ConditionalCheckFailedException:
            return False

    def release(self, merchant_id: str, endpoint_id: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(merchant_id, endpoint_id),
                UpdateExpression="ADD in_flight :minus_one",
                ConditionExpression="in_flight > :zero",
                ExpressionAttributeValues={":minus_one": {"N": "-1"}, ":zero": {"N": "0"}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            pass  # already reset as stale
