"""The payment results in DynamoDB (BreakingTheBank)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from finalizer.domain.payment import PaymentActionRequired, PaymentAuthorized, PaymentDecided
from finalizer.rows import (
    AUTHORIZED,
    AWAITING,
    AWAITING_INDEX,
    AWAITING_SINCE,
    KEY,
    action_row,
    authorized_row,
    result_row,
)
from payments_shared.eventstore.dynamodb import PutItem


class DynamoDBPaymentResults:
    """The item write that records a payment's result row, committed with its outcome event (the event store
    runs it); and the sweeps' one read, the payments awaiting authentication (or capture) since before a time."""

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self._table = table
        self._dynamodb = dynamodb  # only the sweep reads

    def result_recorded(self, outcome: PaymentDecided, version: int, at: datetime) -> PutItem:
        fields = result_row(outcome.data, version, at.isoformat())
        return PutItem(self._table, {KEY: fields.pop(KEY)}, fields)

    def action_required(self, action: PaymentActionRequired, version: int, at: datetime) -> PutItem:
        fields = action_row(action.data, version, at.isoformat())
        return PutItem(self._table, {KEY: fields.pop(KEY)}, fields)

    def authorized(self, authorized: PaymentAuthorized, version: int, at: datetime) -> PutItem:
        fields = authorized_row(authorized.data, version, at.isoformat())
        return PutItem(self._table, {KEY: fields.pop(KEY)}, fields)

    def awaiting_since_before(self, cutoff: datetime, limit: int) -> list[str]:
        return self._since_before(AWAITING, cutoff, limit)

    def authorized_since_before(self, cutoff: datetime, limit: int) -> list[str]:
        return self._since_before(AUTHORIZED, cutoff, limit)

    def _since_before(self, partition: str, cutoff: datetime, limit: int) -> list[str]:
        answer = self._dynamodb.query(
            TableName=self._table,
            IndexName=AWAITING_INDEX,
            KeyConditionExpression="#p = :p AND #s < :cutoff",
            ExpressionAttributeNames={"#p": AWAITING, "#s": AWAITING_SINCE},
            ExpressionAttributeValues={":p": {"S": partition}, ":cutoff": {"S": cutoff.isoformat()}},
            Limit=limit,
        )
        return [item[KEY]["S"] for item in answer.get("Items", [])]
