"""The finalizer's names in its event store and on the bus, defined once (the app, the container and tools/ops
use them).

A payment's outcome is the last event of its own stream `payment-<payment order id>` (the only one but for a
3-D Secure payment, whose PaymentActionRequired comes first): the stream's version condition is what lets one
delivery, and only one, record a payment's decision. A refund has its own stream `refund-<refund id>` (the PSP's
answer, then perhaps its reversal), and a dispute `dispute-<Stripe's dp_ id>` (OPENED, then WON or LOST), so
refunds and disputes of one payment never race each other or the payment's stream. A payout of the PSP's balance
to our bank has its own, `psp-payout-<Stripe's po_ id>` (PAID, then perhaps FAILED).
"""

from __future__ import annotations

from finalizer.domain.event_types import (
    DISPUTE_LOST,
    DISPUTE_OPENED,
    DISPUTE_WON,
    PAYMENT_ACTION_REQUIRED,
    PAYMENT_AUTHORIZED,
    PAYMENT_CANCELED,
    PAYMENT_FAILED,
    PAYMENT_SUCCEEDED,
    PSP_PAYOUT_FAILED,
    PSP_PAYOUT_PAID,
    REFUND_FAILED,
    REFUND_REVERSED,
    REFUND_SUCCEEDED,
)

PAYMENT_PREFIX = "payment-"
REFUND_PREFIX = "refund-"
DISPUTE_PREFIX = "dispute-"
PSP_PAYOUT_PREFIX = "psp-payout-"

# What leaves the service, through the outbox relay: the bus source, and the stored event types it publishes (as
# which contract type). The outcomes are one integration event: PaymentStatusUpdated with status SUCCESS, FAILED,
# AUTHORIZED (held for a manual capture) or CANCELED (an authorization released);
# a refund's three statuses are one too: RefundStatusUpdated with status SUCCEEDED, FAILED or REVERSED.
SOURCE = "payments.finalizer"
PUBLISHED_TYPES = {
    PAYMENT_SUCCEEDED: "PaymentStatusUpdated",
    PAYMENT_FAILED: "PaymentStatusUpdated",
    PAYMENT_AUTHORIZED: "PaymentStatusUpdated",
    PAYMENT_CANCELED: "PaymentStatusUpdated",
    PAYMENT_ACTION_REQUIRED: "PaymentActionRequired",
    REFUND_SUCCEEDED: "RefundStatusUpdated",
    REFUND_FAILED: "RefundStatusUpdated",
    REFUND_REVERSED: "RefundStatusUpdated",
    DISPUTE_OPENED: "DisputeStatusUpdated",
    DISPUTE_WON: "DisputeStatusUpdated",
    DISPUTE_LOST: "DisputeStatusUpdated",
    PSP_PAYOUT_PAID: "PspPayoutUpdated",
    PSP_PAYOUT_FAILED: "PspPayoutUpdated",
}


def payment_stream(payment_order_id: str) -> str:
    return f"{PAYMENT_PREFIX}{payment_order_id}"


def refund_stream(refund_id: str) -> str:
    return f"{REFUND_PREFIX}{refund_id}"


def dispute_stream(dispute_id: str) -> str:
    return f"{DISPUTE_PREFIX}{dispute_id}"


def psp_payout_stream(payout_id: str) -> str:
    """A payout of the PSP's balance to our bank (Stripe's po_ id): PAID, then perhaps FAILED."""
    return f"{PSP_PAYOUT_PREFIX}{payout_id}"
