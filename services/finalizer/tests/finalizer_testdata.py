"""Events the finalizer's tests deliver."""

from __future__ import annotations

import uuid
from typing import Any

from payments_shared.ids import PaymentOrderId

APPROVED_LAST4, DECLINED_LAST4 = "1111", "0002"


def payment_initiated(
    last4: str = APPROVED_LAST4, order_id: str | None = None, traceparent: str | None = None, **data: Any
) -> dict[str, Any]:
    """An EventBridge delivery of PaymentInitiated, as the initializer's relay publishes it."""
    order_id = order_id or PaymentOrderId.new()
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "PaymentInitiated",
        "source": "payments.initializer", "account": "123456789012", "time": "2026-11-25T10:00:00Z",
        "region": "eu-west-1", "resources": [],
        "detail": {
            "event_id": str(uuid.uuid4()), "event_type": "PaymentInitiated", "schema_version": 1,
            "occurred_at": "2026-11-25T10:00:00+00:00", "aggregate_id": f"payment-{order_id}",
            "aggregate_version": 1, "correlation_id": order_id, "causation_id": None,
            "trace": {"traceparent": traceparent, "tracestate": None},
            "data": {
                "payment_order_id": order_id, "merchant_id": "merchant-1", "amount": "12.34",
                "amount_minor": 1234, "currency": "EUR", "buyer_country": "GB",
                "card": {"brand": "visa", "last4": last4, "fingerprint": "f" * 64},
                "request_fingerprint": "r", "created_at": "2026-11-25T10:00:00+00:00", **data,
            },
        },
    }  # fmt: skip
