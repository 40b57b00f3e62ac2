"""The ShowMeTheMoney row of a payment order, derived from the order's events alone.

One definition for the rows the app writes with its events and for the rows an operator rebuilds from the
event store (`payments-ops rebuild payment-orders`), so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from initializer.domain.order import PaymentOrder
from payments_shared.eventstore import PutRecord, UpdateRecord

KEY = "payment_order_id"


def status_fields(order: PaymentOrder, timestamp: str) -> dict[str, Any]:
    """What a recorded outcome changes on the row."""
    return {
        "status": order.status.value,
        "failure_reason": order.failure_reason,
        "timestamp": timestamp,
        "version": order.version,
    }


def order_row(order: PaymentOrder, first_event: Mapping[str, Any], timestamp: str) -> dict[str, Any]:
    """The whole row: the order's state plus what only its first event holds (the buyer, the sealed card).

    A rejected order keeps no sealed card: it is never charged, so the details have no reader.
    """
    return {
        KEY: str(order.payment_order_id),
        "merchant_id": str(order.merchant_id),
        "buyer_info": dict(first_event["buyer"]),
        "payment_details": first_event.get("payment_details"),
        "amount": order.amount.to_decimal_string(),
        "amount_minor": order.amount.minor,
        "currency": order.amount.currency,
        "card_brand": order.card.brand,
        "card_last4": order.card.last4,
        "created_at": order.created_at.isoformat(),
        **status_fields(order, timestamp),
    }


class OrderRows:
    """The writes that keep an order's row, committed in the order's own transactions (the event store runs
    them). The read-model adapters (DynamoDB, in memory) are this plus their reads."""

    def __init__(self, table: str) -> None:
        self._table = table

    def placed(self, order: PaymentOrder, first_event: Mapping[str, Any], timestamp: str) -> PutRecord:
        fields = order_row(order, first_event, timestamp)
        return PutRecord(self._table, {KEY: fields.pop(KEY)}, fields)

    def decided(self, order: PaymentOrder, timestamp: str) -> UpdateRecord:
        # Set in place: no read of the row, in the same transaction as the outcome's event.
        return UpdateRecord(self._table, {KEY: str(order.payment_order_id)}, status_fields(order, timestamp))
