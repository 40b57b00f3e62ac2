"""Requests, dates and in-memory wiring the initializer's tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from initializer.adapters.memory_orders import InMemoryPaymentOrders
from initializer.domain.commands import RequestRefund
from initializer.domain.order import PaymentInitiated
from initializer.entrypoints import api
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.ids import RefundId
from payments_shared.money import Money
from payments_testing.aws import LambdaContext
from payments_testing.cards import LocalCardVault
from payments_testing.http import MERCHANT_1, api_event

TODAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EVENT_STORE_TABLE, ORDERS_TABLE = "initializer-events", "ShowMeTheMoney"  # the container's defaults


def in_memory_adapters(container: Any) -> InMemoryEventStore:
    """The runtime's container on in-memory adapters (no AWS at all): the store, to look into; the orders'
    rows are `container.orders()`'s."""
    store = InMemoryEventStore()
    container.event_store.override(store)
    container.orders.override(InMemoryPaymentOrders(ORDERS_TABLE))
    container.vault.override(LocalCardVault())
    container.clock.override(lambda: TODAY)
    return store


def valid_order(**overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "merchant_id": "merchant-1",
        "amount": "12.34",
        "currency": "EUR",
        "buyer_info": {"name": "Ada Lovelace", "email": "ada@example.com", "country": "GB"},
        "payment_details": {
            "card_number": "4111111111111111",
            "expiry_month": 12,
            "expiry_year": 2030,
            "cvv": "737",
            "holder_name": "Ada Lovelace",
        },
    }
    for key, value in overrides.items():
        if key in order["payment_details"]:
            order["payment_details"][key] = value
        else:
            order[key] = value
    return order


def payment_method_order(payment_method: str = "pm_card_visa", **overrides: Any) -> dict[str, Any]:
    """A valid order paid with a Stripe PaymentMethod instead of card details."""
    order = {k: v for k, v in valid_order(**overrides).items() if k != "payment_details"}
    return {**order, "payment_method": payment_method}


def post(body: Any, key: str | None = "key-1", caller: str | None = MERCHANT_1) -> dict[str, Any]:
    """POST /payments through the real HTTP entry point (no Idempotency-Key when key is None)."""
    headers = {"Idempotency-Key": key} if key else {}
    return api.handler(api_event("POST", "/payments", body, headers, caller=caller), LambdaContext())


def get(order_id: str, caller: str | None = MERCHANT_1) -> dict[str, Any]:
    """GET /payments/{payment_order_id} through the real HTTP entry point."""
    event = api_event(
        "GET",
        f"/payments/{order_id}",
        resource="/payments/{payment_order_id}",
        path_parameters={"payment_order_id": order_id},
        caller=caller,
    )
    return api.handler(event, LambdaContext())


def _on_payment(
    act: str, order_id: str, body: dict[str, Any] | None, key: str | None, caller: str | None
) -> dict[str, Any]:
    """POST /payments/{payment_order_id}/<act> (refunds, capture, cancel) through the real HTTP entry point."""
    event = api_event(
        "POST",
        f"/payments/{order_id}/{act}",
        {} if body is None else body,
        {"Idempotency-Key": key} if key else {},
        resource=f"/payments/{{payment_order_id}}/{act}",
        path_parameters={"payment_order_id": order_id},
        caller=caller,
    )
    return api.handler(event, LambdaContext())


def refund(
    order_id: str, body: dict[str, Any] | None = None, key: str | None = "refund-1", caller: str | None = MERCHANT_1
) -> dict[str, Any]:
    """POST /payments/{payment_order_id}/refunds."""
    return _on_payment("refunds", order_id, body, key, caller)


def capture(
    order_id: str, body: dict[str, Any] | None = None, key: str | None = "capture-1", caller: str | None = MERCHANT_1
) -> dict[str, Any]:
    """POST /payments/{payment_order_id}/capture."""
    return _on_payment("capture", order_id, body, key, caller)


def cancel(
    order_id: str, body: dict[str, Any] | None = None, key: str | None = "cancel-1", caller: str | None = MERCHANT_1
) -> dict[str, Any]:
    """POST /payments/{payment_order_id}/cancel."""
    return _on_payment("cancel", order_id, body, key, caller)


# -- the order decider's tests: one order, given as events, asked for refunds
ORDER_ID = "0b0e5f2a-7a61-4d0e-9a3c-2a7f6f0f9c11"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def order_initiated(amount_minor: int, capture_method: str = "automatic") -> PaymentInitiated:
    """ORDER_ID placed by merchant-1 in EUR, paid with a test PaymentMethod."""
    return PaymentInitiated(
        payment_order_id=ORDER_ID,
        merchant_id="merchant-1",
        amount=Money(amount_minor, "EUR").to_decimal_string(),
        amount_minor=amount_minor,
        currency="EUR",
        buyer_country="GB",
        buyer={"name": "Ada", "email": "ada@example.com", "country": "GB"},
        card=None,
        request_fingerprint="f",
        created_at=NOW.isoformat(),
        payment_method="pm_card_visa",
        capture_method=capture_method,
    )


def refund_request(idempotency_key: str, minor: int | None, body: str | None = None) -> RequestRefund:
    """merchant-1 asks to refund `minor` EUR of ORDER_ID (None: what is left) under this key."""
    return RequestRefund(
        payment_order_id=ORDER_ID,
        refund_id=RefundId.for_idempotency_key(ORDER_ID, idempotency_key),
        amount=None if minor is None else Money(minor, "EUR"),
        reason=None,
        request_fingerprint=RequestRefund.fingerprint(None if minor is None else str(minor), "EUR", body),
        requested_at=NOW,
        caller_merchant_id="merchant-1",
    )
