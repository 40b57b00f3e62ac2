"""What the PSP says of a refund, a dispute and a payout of its balance: the PSP port's vocabulary.

Kept apart from the deciders that record them (refund, dispute, psp_payout): the PSP's adapter loads these with
the SDK in every finalizer that charges, and a charge's cold start has no use for those deciders' events.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RefundStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REVERSED = "REVERSED"


@dataclass(frozen=True)
class RefundAnswer:
    """What the PSP says of a refund now: SUCCEEDED or FAILED (with its reason)."""

    status: RefundStatus
    psp_reference: str | None  # Stripe's re_… (none when it refused before making one)
    failure_reason: str | None = None
    refund_id: str | None = None  # our refund id, as the PSP keeps it (its metadata); None: not one of ours


class DisputeStatus(StrEnum):
    OPENED = "OPENED"
    WON = "WON"
    LOST = "LOST"


# Stripe's Dispute.status of a chargeback → ours. Its inquiries (warning_needs_response, warning_under_review,
# warning_closed) withdraw no funds (docs.stripe.com/disputes/how-disputes-work#inquiries): they are not recorded.
STRIPE_DISPUTE_STATUSES = {
    "needs_response": DisputeStatus.OPENED,
    "under_review": DisputeStatus.OPENED,
    "won": DisputeStatus.WON,
    "lost": DisputeStatus.LOST,
}


@dataclass(frozen=True)
class DisputeView:
    """What the PSP says of a dispute now."""

    dispute_id: str  # Stripe's dp_…
    payment_intent: str | None
    amount_minor: int
    currency: str  # ISO, upper case
    fee_minor: int  # the dispute fee withdrawn with the amount
    status: DisputeStatus
    reason: str | None
    payment_order_id: str | None = None  # ours, from the PaymentIntent's metadata; None: not a payment of ours


class PspPayoutStatus(StrEnum):
    PAID = "PAID"
    FAILED = "FAILED"


# Stripe's Payout.status → ours; pending, in_transit and canceled record nothing.
STRIPE_PAYOUT_STATUSES = {"paid": PspPayoutStatus.PAID, "failed": PspPayoutStatus.FAILED}


@dataclass(frozen=True)
class PspPayoutView:
    """What the PSP says of a payout now."""

    payout_id: str  # Stripe's po_…
    amount_minor: int
    currency: str  # ISO, upper case
    status: PspPayoutStatus
    failure_code: str | None = None
