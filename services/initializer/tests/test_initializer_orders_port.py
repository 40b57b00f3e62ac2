"""The orders port's contract, run on every adapter (in memory; DynamoDB on moto): the row an order's first event
writes, then the outcome's update, are what the read model answers — the row derived from events alone, and
written only with the events that imply it."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from initializer_testdata import EVENT_STORE_TABLE, ORDERS_TABLE

from initializer.adapters.dynamodb_orders import DynamoDBPaymentOrders
from initializer.adapters.memory_orders import InMemoryPaymentOrders
from initializer.domain.order import (
    EVENT_SCHEMAS,
    EVENTS,
    PAYMENT_INITIATED,
    PAYMENT_OUTCOME_RECORDED,
    PAYMENT_REJECTED,
    PaymentInitiated,
    PaymentOrder,
    PaymentOutcomeRecorded,
    PaymentRejected,
    evolve,
)
from initializer.domain.streams import payment_stream
from initializer.ports import PaymentOrders
from initializer.rows import rebuilt_row
from payments_shared.eventstore import EventStore, NewEvent
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.memory import InMemoryEventStore

ORDER = "0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f"
PLACED: dict[str, Any] = {
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
DECIDED: dict[str, Any] = {"status": "FAILED", "error_message": "insufficient_funds", "source_event_id": "e-1"}
T1, T2 = datetime(2026, 12, 4, 10, tzinfo=UTC), datetime(2026, 12, 4, 11, tzinfo=UTC)


class PaymentOrdersContract:
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, PaymentOrders]]:
        """(the event store, the orders adapter whose writes it commits)"""
        raise NotImplementedError

    def test_an_orders_row_is_placed_then_decided(self, adapter: tuple[EventStore, PaymentOrders]) -> None:
        store, orders = adapter
        initiated = PaymentInitiated(**PLACED)
        placed = rebuilt_row([(1, PAYMENT_INITIATED, PLACED)], T1.isoformat())
        order = _order_of([(1, PAYMENT_INITIATED, PLACED)])
        store.append(
            payment_stream(ORDER),
            0,
            [NewEvent(PAYMENT_INITIATED, PLACED, ORDER)],
            [orders.placed(order, initiated, 1, T1)],
        )
        row = orders.get(ORDER)
        assert row is not None and (row["status"], row["buyer_info"]["email"], row["payment_details"]) == (
            "INITIATED",
            "a@example.com",
            "sealed",
        )
        assert _plain(row) == _plain(placed)  # the row an operator's rebuild derives from the events

        decided = _order_of([(1, PAYMENT_INITIATED, PLACED), (2, PAYMENT_OUTCOME_RECORDED, DECIDED)])
        # An outcome stored before manual capture has no amount: the order's amount stands.
        assert PaymentOutcomeRecorded(**DECIDED).data == {**DECIDED, "amount_minor": None}
        store.append(
            payment_stream(ORDER),
            1,
            [NewEvent(PAYMENT_OUTCOME_RECORDED, DECIDED, ORDER)],
            [orders.status_recorded(decided, 2, T2)],
        )
        row = orders.get(ORDER)
        assert row is not None
        assert (row["status"], row["failure_reason"], int(row["version"]), row["timestamp"]) == (
            "FAILED",
            "insufficient_funds",
            2,
            T2.isoformat(),
        )
        assert row["card_last4"] == "4242" and orders.get("p-2") is None
        rebuilt = rebuilt_row([(1, PAYMENT_INITIATED, PLACED), (2, PAYMENT_OUTCOME_RECORDED, DECIDED)], T2.isoformat())
        assert _plain(row) == _plain(rebuilt)

    def test_a_rejected_orders_row_keeps_no_sealed_card(self, adapter: tuple[EventStore, PaymentOrders]) -> None:
        store, orders = adapter
        data = {k: v for k, v in PLACED.items() if k != "payment_details"} | {"status": "FAILED", "reason": "no"}
        rejected = PaymentRejected(**data)
        order = _order_of([(1, PAYMENT_REJECTED, rejected.data)])
        store.append(
            payment_stream(ORDER),
            0,
            [NewEvent(PAYMENT_REJECTED, rejected.data, ORDER)],
            [orders.placed(order, rejected, 1, T1)],
        )
        row = orders.get(ORDER)
        assert row is not None and (row["status"], row["failure_reason"], row.get("payment_details")) == (
            "FAILED",
            "no",
            None,
        )

    def test_an_orders_writes_commit_only_with_its_events(self, adapter: tuple[EventStore, PaymentOrders]) -> None:
        _, orders = adapter
        order = _order_of([(1, PAYMENT_INITIATED, PLACED)])
        orders.placed(order, PaymentInitiated(**PLACED), 1, T1)  # made, never committed
        assert orders.get(ORDER) is None


def _order_of(history: list[tuple[int, str, dict[str, Any]]]) -> PaymentOrder:
    order = functools.reduce(evolve, (EVENTS.decode(event_type, data) for _, event_type, data in history), None)
    assert order is not None
    return order


def _plain(row: dict[str, Any] | None) -> dict[str, Any]:
    """A row as plain values (DynamoDB gives numbers back as Decimal; a missing attribute and None alike)."""
    assert row is not None
    return {k: (int(v) if k in ("version", "amount_minor") else v) for k, v in row.items() if v is not None}


class TestInMemoryPaymentOrders(PaymentOrdersContract):
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, PaymentOrders]]:
        yield InMemoryEventStore(schemas=EVENT_SCHEMAS), InMemoryPaymentOrders(ORDERS_TABLE)


class TestDynamoDBPaymentOrders(PaymentOrdersContract):
    @pytest.fixture
    def adapter(self, initializer_tables: tuple[Any, str]) -> Iterator[tuple[EventStore, PaymentOrders]]:
        dynamodb, _ = initializer_tables
        yield (
            DynamoDBEventStore(dynamodb, EVENT_STORE_TABLE, EVENT_SCHEMAS),
            DynamoDBPaymentOrders(dynamodb, ORDERS_TABLE),
        )
