"""A payment as the finalizer sees it: charged once, then SUCCESS or FAILED for good."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from payments_shared.contracts import PaymentInitiatedData
from payments_shared.domain_events import DomainEvent, EventTypes

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
class ChargeResult:
    decision: PspDecision
    psp_reference: str | None
    error_message: str | None
    decline_code: str | None = None  # the issuer's reason as the PSP names it (e.g. insufficient_funds)


@dataclass(frozen=True)
class Payment:
    payment_order_id: str
    status: PaymentStatus
    version: int


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


def outcome(payment: PaymentInitiatedData, result: ChargeResult) -> PaymentDecided:
    approved = result.decision == PspDecision.APPROVED
    money = payment.money()
    decided = PaymentSucceeded if approved else PaymentFailed
    return decided(
        payment_order_id=str(payment.payment_order_id),
        merchant_id=str(payment.merchant_id),
        amount=money.to_decimal_string(),
        amount_minor=money.minor,
        currency=money.currency,
        status=(PaymentStatus.SUCCESS if approved else PaymentStatus.FAILED).value,
        error_message=None if approved else (result.error_message or "declined"),
        decline_code=None if approved else result.decline_code,
        psp_reference=result.psp_reference,
    )


def fold(events: Sequence[tuple[int, str, Mapping[str, Any]]]) -> Payment | None:
    """The payment a stream's (version, event_type, data) tell of; None before its decision."""
    payment: Payment | None = None
    for version, event_type, data in events:
        event = EVENTS.decode(event_type, data)
        if isinstance(event, PaymentDecided):
            payment = Payment(event.payment_order_id, PaymentStatus(event.status), version)
    return payment
