"""The webhook-endpoints table on DynamoDB."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from notifier.domain.endpoints import WebhookEndpoint
from notifier.domain.errors import TooManyEndpoints
from notifier.rows import (
    COUNT_KEY,
    DELETED_PREFIX,
    ENDPOINT_PREFIX,
    endpoint_from_row,
    endpoint_row,
    from_attributes,
    secrets_row,
    to_attributes,
)
from payments_shared.eventstore.port import StoreUnavailable
from payments_shared.eventstore.refusals import passing_reason, reason_codes, refused_for_now


def _raise_if_passing(error: ClientError, merchant_id: str) -> None:
    """A refusal that decided nothing (throttling, another transaction on an item) is StoreUnavailable: the API
    answers 503 with Retry-After (payments_shared.lambda_entry.http) and the merchant's retry is safe, not a 500."""
    reason = passing_reason(error)
    if reason is not None:
        raise StoreUnavailable(_endpoints_of(merchant_id), reason) from error


def _endpoints_of(merchant_id: str) -> str:
    return f"webhook endpoints of {merchant_id}"


class DynamoDBEndpoints:
    def __init__(self, client: Any, table: str) -> None:
        self._client, self._table = client, table

    def _key(self, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
        return {"merchant_id": {"S": merchant_id}, "endpoint_id": {"S": endpoint_id}}

    def add(self, endpoint: WebhookEndpoint, *, limit: int) -> bool:
        # The endpoint and its merchant's count in one transaction: the limit holds however many race.
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_attributes(endpoint_row(endpoint)),
                            "ConditionExpression": "attribute_not_exists(endpoint_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": self._key(endpoint.merchant_id, COUNT_KEY),
                            "UpdateExpression": "SET endpoints = if_not_exists(endpoints, :zero) + :one",
                            "ConditionExpression": "attribute_not_exists(endpoints) OR endpoints < :limit",
                            "ExpressionAttributeValues": {
                                ":zero": {"N": "0"},
                                ":one": {"N": "1"},
                                ":limit": {"N": str(limit)},
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                _raise_if_passing(error, endpoint.merchant_id)
                raise
            reasons = reason_codes(error)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return False
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise TooManyEndpoints(f"a merchant may have at most {limit} webhook endpoints") from error
            _raise_if_passing(error, endpoint.merchant_id)
            raise
        return True

    def get(self, merchant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        if not endpoint_id.startswith(ENDPOINT_PREFIX):
            return None
        with refused_for_now(_endpoints_of(merchant_id)):
            item = self._client.get_item(
                TableName=self._table, Key=self._key(merchant_id, endpoint_id), ConsistentRead=True
            ).get("Item")
        return endpoint_from_row(from_attributes(item)) if item else None

    def of_merchant(self, merchant_id: str) -> list[WebhookEndpoint]:
        found: list[WebhookEndpoint] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "merchant_id = :m AND begins_with(endpoint_id, :prefix)",
            "ExpressionAttributeValues": {":m": {"S": merchant_id}, ":prefix": {"S": ENDPOINT_PREFIX}},
            "ConsistentRead": True,
        }
        while True:
            with refused_for_now(_endpoints_of(merchant_id)):
                page = self._client.query(**query)
            found += [endpoint_from_row(from_attributes(item)) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def was_deleted(self, merchant_id: str, endpoint_id: str) -> bool:
        key = self._key(merchant_id, DELETED_PREFIX + endpoint_id)
        with refused_for_now(_endpoints_of(merchant_id)):
            return "Item" in self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)

    def remove(self, merchant_id: str, endpoint_id: str, *, at: int) -> bool:
        if not endpoint_id.startswith(ENDPOINT_PREFIX):
            return False
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": self._key(merchant_id, endpoint_id),
                            "ConditionExpression": "attribute_exists(endpoint_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": self._key(merchant_id, COUNT_KEY),
                            "UpdateExpression": "SET endpoints = endpoints - :one",
                            "ConditionExpression": "endpoints > :zero",
                            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {**self._key(merchant_id, DELETED_PREFIX + endpoint_id), "deleted": {"N": str(at)}},
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException" and reason_codes(error)[:1] == [
                "ConditionalCheckFailed"
            ]:
                return False
            _raise_if_passing(error, merchant_id)
            raise
        return True

    def rotated(self, before: WebhookEndpoint, after: WebhookEndpoint) -> bool:
        # Each rotation writes its own key, so the key read before is the version this rotation decided on.
        condition = "attribute_exists(endpoint_id) AND " + (
            "rotation_key = :before" if before.rotation_key is not None else "attribute_not_exists(rotation_key)"
        )
        values: dict[str, Any] = {
            ":secrets": to_attributes({"s": secrets_row(after.secrets)})["s"],
            ":key": {"S": after.rotation_key or ""},
            ":keys": to_attributes({"k": list(after.rotation_keys)})["k"],
        }
        if before.rotation_key is not None:
            values[":before"] = {"S": before.rotation_key}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(before.merchant_id, before.endpoint_id),
                UpdateExpression="SET secrets = :secrets, rotation_key = :key, rotation_keys = :keys",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            _raise_if_passing(error, before.merchant_id)
            raise
        return True
