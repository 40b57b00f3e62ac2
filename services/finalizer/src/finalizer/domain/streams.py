"""The finalizer's names in its event store, defined once (the app, the rows and tools/ops use them).

A payment's outcome is the only event of its own stream `payment-<payment order id>`: the stream's version
condition is what lets one delivery, and only one, record a payment's decision.
"""

from __future__ import annotations

PAYMENT_PREFIX = "payment-"


def payment_stream(payment_order_id: str) -> str:
    return f"{PAYMENT_PREFIX}{payment_order_id}"
