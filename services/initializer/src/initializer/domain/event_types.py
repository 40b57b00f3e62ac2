"""The initializer's stored event types and their schema versions: what its outbox relay needs of its domain.

Here, not in initializer.domain.order, so the relay (which publishes stored events, never decides) loads neither
the order's decider nor its commands at its cold start; order.py re-exports every name.
"""

from __future__ import annotations

from typing import Any

from payments_shared.eventstore.schemas import Schemas

PAYMENT_INITIATED = "PaymentInitiated"
PAYMENT_REJECTED = "PaymentRejected"
PAYMENT_OUTCOME_RECORDED = "PaymentOutcomeRecorded"
PAYMENT_ACTION_RECORDED = "PaymentActionRecorded"
REFUND_REQUESTED = "RefundRequested"
REFUND_OUTCOME_RECORDED = "RefundOutcomeRecorded"
DISPUTE_STATUS_RECORDED = "DisputeStatusRecorded"
CAPTURE_REQUESTED = "CaptureRequested"
CANCEL_REQUESTED = "CancelRequested"


def _buyer_from_country(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept only the buyer's country; version 2 keeps the buyer (the read model's buyer_info)."""
    return {**data, "buyer": {"country": data["buyer_country"]}}


def _paid_by_card(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 orders were all paid by card; version 3 says how an order pays: a card or a payment method."""
    return {**data, "payment_method": None}


# The stored events' schema versions and their upcasters (payments_shared.eventstore.schemas): every reader sees
# version 3. (Not the HTTP models: those are initializer.http_models.)
EVENT_SCHEMAS = Schemas(
    {
        (PAYMENT_INITIATED, 1): _buyer_from_country,
        (PAYMENT_REJECTED, 1): _buyer_from_country,
        (PAYMENT_INITIATED, 2): _paid_by_card,
        (PAYMENT_REJECTED, 2): _paid_by_card,
    }
)
