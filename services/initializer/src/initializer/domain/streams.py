"""The initializer's names in its event store and on the bus, defined once (the app, the container and tools/ops
use them).

Each payment order is its own stream, `payment-<payment order id>`: its first event is written only if the
stream is new, so an Idempotency-Key (which names the order) can start one order only.
"""

from __future__ import annotations

from initializer.domain.event_types import CANCEL_REQUESTED, CAPTURE_REQUESTED, PAYMENT_INITIATED, REFUND_REQUESTED

PAYMENT_PREFIX = "payment-"

# What leaves the service, through the outbox relay: the bus source, and the stored event types it publishes (as
# which contract type). Only the contract events: PaymentRejected (no consumer: the client had its answer),
# PaymentOutcomeRecorded and RefundOutcomeRecorded are the initializer's own bookkeeping.
SOURCE = "payments.initializer"
PUBLISHED_TYPES = {
    PAYMENT_INITIATED: "PaymentInitiated",
    REFUND_REQUESTED: "RefundRequested",
    CAPTURE_REQUESTED: "CaptureRequested",
    CANCEL_REQUESTED: "CancelRequested",
}


def payment_stream(payment_order_id: str) -> str:
    return f"{PAYMENT_PREFIX}{payment_order_id}"
