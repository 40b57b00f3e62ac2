"""What the finalizer's use cases need: its event store, the sealed card opened, a PSP and the results row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from finalizer.domain.payment import (
    CardDetails,
    ChargeResult,
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentDecided,
    PaymentSource,
)
from finalizer.domain.psp_views import DisputeView, PspPayoutView, RefundAnswer
from payments_shared.eventstore import EventStore, ViewChange
from payments_shared.money import Money

__all__ = [
    "CardOpener",
    "Clock",
    "EventStore",
    "PaymentResults",
    "PaymentServiceProvider",
    "PspOutcomeUnknown",
    "PspRequestRefused",
]

Clock = Callable[[], datetime]


class PspOutcomeUnknown(Exception):
    """The PSP could not be reached, or answered too late to know whether it charged."""


class PspRequestRefused(Exception):
    """The PSP refused our request itself (bad key, bad parameters): retrying the same request cannot help."""


class CardOpener(Protocol):
    def open(self, sealed: str, payment_order_id: str) -> CardDetails:
        """The card sealed for this order; raises for details sealed for another order or tampered with."""
        ...


class PaymentServiceProvider(Protocol):
    def charge(
        self,
        idempotency_key: str,
        amount: Money,
        merchant_id: str,
        card: PaymentSource,
        return_url: str | None = None,
        capture_method: str = "automatic",
    ) -> ChargeResult:
        """Charge once per idempotency key; raise PspOutcomeUnknown when the outcome can't be known. A card
        that asks for authentication answers REQUIRES_ACTION (the buyer then comes back to `return_url`); with
        capture_method "manual" an approved card answers AUTHORIZED (the amount held, not captured)."""
        ...

    def capture(self, reference: str, amount: Money, idempotency_key: str) -> ChargeResult:
        """Capture `amount` (at most the authorized one; the rest is released) of the authorization `reference`
        once per idempotency key: APPROVED with what was captured; an intent canceled meanwhile answers DECLINED
        and one captured before answers with that capture. PspOutcomeUnknown when the outcome can't be known."""
        ...

    def retrieve(self, reference: str) -> ChargeResult:
        """The charge `reference` as it stands now (REQUIRES_ACTION while the buyer has not authenticated)."""
        ...

    def cancel(
        self, reference: str, reason: str | None = "abandoned", idempotency_key: str | None = None
    ) -> ChargeResult:
        """Cancel a charge awaiting authentication, or an authorization (its amount released), with Stripe's
        cancellation `reason`: DECLINED; one that settled or was captured meanwhile answers with its outcome."""
        ...

    def find(self, idempotency_key: str) -> ChargeResult | None:
        """The outcome of a charge already made for this key, looked up without the key (which the PSP may
        have forgotten); None when it made none."""
        ...

    def refund(
        self, idempotency_key: str, payment_intent: str, amount: Money, reason: str | None, metadata: dict[str, str]
    ) -> RefundAnswer:
        """Refund `amount` of the charge `payment_intent` once per idempotency key: SUCCEEDED when the PSP took
        it, FAILED (with its reason) when it refused it; PspOutcomeUnknown when the outcome can't be known."""
        ...

    def retrieve_refund(self, reference: str) -> RefundAnswer:
        """The refund `reference` as it stands now (with our refund id from its metadata, if it is ours)."""
        ...

    def find_refund(self, payment_intent: str, refund_id: str) -> RefundAnswer | None:
        """The refund made for `refund_id` on `payment_intent`, looked up without the idempotency key (which the
        PSP may have forgotten); None when it made none."""
        ...

    def retrieve_dispute(self, reference: str) -> DisputeView | None:
        """The dispute `reference` as it stands now, with our payment order id from its PaymentIntent's metadata
        (None when it is not ours); None for a dispute that moves no money (an inquiry, Stripe's warning_…)."""
        ...

    def retrieve_payout(self, payout_id: str) -> PspPayoutView | None:
        """The payout `payout_id` of the PSP's balance to our bank as it stands now; None while it is on its way
        (pending, in transit) or canceled."""
        ...


class PaymentResults(Protocol):
    def result_recorded(self, outcome: PaymentDecided, version: int, at: datetime) -> ViewChange:
        """The payment's result row (BreakingTheBank) for `outcome`, the payment stream's event at `version`,
        recorded `at`: committed in the outcome's own append."""
        ...

    def action_required(self, action: PaymentActionRequired, version: int, at: datetime) -> ViewChange:
        """The row of a payment awaiting the buyer's authentication since `at` (committed with the event)."""
        ...

    def authorized(self, authorized: PaymentAuthorized, version: int, at: datetime) -> ViewChange:
        """The row of a payment authorized (awaiting capture) since `at` (committed with the event)."""
        ...

    def awaiting_since_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Up to `limit` payments (order ids) awaiting authentication since before `cutoff`, oldest first."""
        ...

    def authorized_since_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Up to `limit` payments (order ids) authorized, not captured, since before `cutoff`, oldest first."""
        ...
