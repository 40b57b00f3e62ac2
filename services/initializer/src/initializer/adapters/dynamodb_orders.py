"""The orders' read model on DynamoDB (ShowMeTheMoney): item writes in the order's own TransactWriteItems."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from initializer.domain.order import PaymentInitiationEvent, PaymentOrder
from initializer.rows import KEY, VERSION, order_key, order_row, presumed_fields, status_fields
from payments_shared.eventstore.dynamodb import PutItem, SetOnItem, get_row


class DynamoDBPaymentOrders:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def placed(self, order: PaymentOrder, initiation: PaymentInitiationEvent, version: int, at: datetime) -> PutItem:
        row = order_row(order, version, initiation.data, at.isoformat())
        return PutItem(self._table, order_key(row.pop(KEY)), row)

    def status_recorded(
        self, order: PaymentOrder, version: int, at: datetime, presumed: tuple[PaymentOrder, int] | None = None
    ) -> SetOnItem:
        # Set in place: no read of the row, in the same transaction as the outcome's event; conditioned on the
        # row when the order was presumed, not read. The row records the order stream's version with every
        # event, so that guard also pins the stream's version (no version-check item).
        key, fields = order_key(order.payment_order_id), status_fields(order, version, at.isoformat())
        if presumed is None:
            return SetOnItem(self._table, key, fields)
        return SetOnItem(self._table, key, fields, presumed_fields(*presumed), stream_version=VERSION)

    def get(self, payment_order_id: str) -> dict[str, Any] | None:
        return get_row(self._client, self._table, order_key(payment_order_id))
