"""A payment as the finalizer sees it: charged once, then SUCCESS or FAILED for good (a decider).

Charging is I/O (the sealed card opened, the PSP asked), so the use case does it; what the decider rules on is
the PSP's answer: the first one recorded for a payment is its decision, and any later one changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money

PAYMENT_SUCCEEDED = "PaymentSucceeded"
PAYMENT_FAILED = "PaymentFailed"


class PaymentStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class PspDecision(StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"


@dataclass(frozen=True)
class CardDetails:
    """The opened card, held in memory for the PSP call only; its repr never shows the number."""

    number: str = field(repr=False)
    expiry_month: int
    expiry_year: int
    holder_name: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PaymentToken:
    """A payment method the PSP holds for the buyer (Stripe's `pm_…`, made by the buyer's browser with
    Stripe.js): charged by its id, so no card number passes through us."""

    id: str


PaymentSource = CardDetails | PaymentToken


@dataclass(frozen=True)
class ChargeResult:
    decision: PspDecision
    psp_reference: str | None
    error_message: str | None
    decline_code: str | None = None  # the issuer's reason as the PSP names it (e.g. insufficient_funds)


# Events


@dataclass(frozen=True)
class PaymentDecided(DomainEvent):
    """The PSP's answer as our event; its data is the PaymentStatusUpdated integration contract's (and the
    PaymentIntent's id)."""

    payment_order_id: str
    merchant_id: str
    amount: str
    amount_minor: int
    currency: str
    status: str
    error_message: str | None
    decline_code: str | None = None  # recorded since the Stripe adapter; older outcomes have none
    psp_reference: str | None = None


@dataclass(frozen=True)
class PaymentSucceeded(PaymentDecided):
    event_type: ClassVar[str] = PAYMENT_SUCCEEDED


@dataclass(frozen=True)
class PaymentFailed(PaymentDecided):
    event_type: ClassVar[str] = PAYMENT_FAILED


EVENTS = EventTypes(PaymentSucceeded, PaymentFailed)


# Commands


@dataclass(frozen=True)
class ChargePayment:
    """Charge an initiated payment once (what a PaymentInitiated event asks of the finalizer)."""

    payment_order_id: PaymentOrderId  # also the PSP's idempotency key
    merchant_id: MerchantId
    amount: Money
    payment_details: str | None = field(repr=False)  # the card, sealed for this order; opened only to charge
    correlation_id: str
    causation_id: str | None = None  # the PaymentInitiated event's id
    initiated_at: datetime | None = None  # when the payment was initiated: how old its PSP key may be
    payment_method: str | None = None  # or the PSP's PaymentMethod (pm_…) to charge instead of a card


@dataclass(frozen=True)
class RecordCharge:
    """Record the PSP's answer to a payment's charge."""

    payment: ChargePayment
    result: ChargeResult


# State


@dataclass(frozen=True)
class Payment:
    """The charge's decision: None until the PSP's answer is recorded, then that outcome for good."""

    outcome: PaymentDecided | None = None

    @property
    def status(self) -> PaymentStatus | None:
        return PaymentStatus(self.outcome.status) if self.outcome is not None else None


def decide(command: RecordCharge, state: Payment) -> Sequence[DomainEvent]:
    if state.outcome is not None:
        return []  # decided by an earlier delivery: the first answer recorded stands
    payment, result = command.payment, command.result
    approved = result.decision == PspDecision.APPROVED
    decided = PaymentSucceeded if approved else PaymentFailed
    return [
        decided(
            payment_order_id=str(payment.payment_order_id),
            merchant_id=str(payment.merchant_id),
            amount=payment.amount.to_decimal_string(),
            amount_minor=payment.amount.minor,
            currency=payment.amount.currency,
            status=(PaymentStatus.SUCCESS if approved else PaymentStatus.FAILED).value,
            error_message=None if approved else (result.error_message or "declined"),
            decline_code=None if approved else result.decline_code,
            psp_reference=result.psp_reference,
        )
    ]


def evolve(state: Payment, event: DomainEvent) -> Payment:
    if isinstance(event, PaymentDecided):
        return Payment(event)
    return state


DECIDER: Decider[Payment, RecordCharge] = Decider(Payment(), decide, evolve, EVENTS)
