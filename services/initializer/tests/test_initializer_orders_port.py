"""The orders port's contract, run on every adapter (in memory, DynamoDB on moto): the row an order's first
event writes, then the outcome's update, are what the read model answers — the row derived from events alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from initializer.adapters.dynamodb_read_model import DynamoDBOrderReadModel
from initializer.adapters.memory_read_model import InMemoryOrderReadModel
from initializer.domain.order import PAYMENT_INITIATED, PAYMENT_OUTCOME_RECORDED, fold
from payments_shared.eventstore import NewEvent
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.stores import ADAPTERS, event_store, table

ORDER = "0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f"
PLACED = {
    "payment_order_id": ORDER,
    "merchant_id": "m-1",
    "amount": "10.00",
    "amount_minor": 1000,
    "currency": "EUR",
    "buyer_country": "GB",
    "buyer": {"name": "A", "email": "a@example.com", "country": "GB"},
    "card": {"brand": "visa", "last4": "4242", "fingerprint": "f"},
    "request_fingerprint": "r",
    "created_at": datetime(2026, 12, 4, tzinfo=UTC).isoformat(),
    "payment_details": "sealed",
}
DECIDED = {"status": "FAILED", "error_message": "insufficient_funds", "source_event_id": "e-1"}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_orders_row_is_placed_then_decided(adapter: str) -> None:
    with event_store(adapter, "initializer-events", table("ShowMeTheMoney", "payment_order_id")) as (store, client):
        orders = (
            InMemoryOrderReadModel(store, "ShowMeTheMoney")
            if isinstance(store, InMemoryEventStore)
            else DynamoDBOrderReadModel(client, "ShowMeTheMoney")
        )
        order = fold([(1, PAYMENT_INITIATED, PLACED)])
        assert order is not None
        store.append(
            f"payment-{ORDER}", 0, [NewEvent(PAYMENT_INITIATED, PLACED, ORDER)], [orders.placed(order, PLACED, "t1")]
        )
        row = orders.get(ORDER)
        assert row is not None and (row["status"], row["buyer_info"]["email"], row["payment_details"]) == (
            "INITIATED",
            "a@example.com",
            "sealed",
        )
        decided = fold([(2, PAYMENT_OUTCOME_RECORDED, DECIDED)], order)
        assert decided is not None
        store.append(
            f"payment-{ORDER}", 1, [NewEvent(PAYMENT_OUTCOME_RECORDED, DECIDED, ORDER)], [orders.decided(decided, "t2")]
        )
        row = orders.get(ORDER)
        assert row is not None
        assert (row["status"], row["failure_reason"], int(row["version"]), row["timestamp"]) == (
            "FAILED",
            "insufficient_funds",
            2,
            "t2",
        )
        assert row["card_last4"] == "4242" and orders.get("p-2") is None
