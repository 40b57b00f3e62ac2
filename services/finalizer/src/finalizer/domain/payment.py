"""A payment as the finalizer sees it: charged once, then SUCCESS or FAILED for good (a decider).

Charging is I/O (the sealed card opened, the PSP asked), so the use case does it; what the decider rules on is
the PSP's answers: the first final one recorded for a payment is its decision, and any later one changes nothing.
A card that asks for 3-D Secure first puts the payment in REQUIRES_ACTION (what the buyer's page needs to
authenticate); the PSP's later answer for that same PaymentIntent — authenticated, failed, or cancelled by the
sweep once abandoned — decides it.

A manual-capture payment (Stripe's capture_method=manual) is first AUTHORIZED: the PSP holds its amount. The
PSP's answer to a capture then makes it SUCCESS with the amount captured (at most the authorized one; the rest
is released), or its answer to a cancel — ours, the capture window's sweep, or Stripe's own once the window
passed — makes it CANCELED. Either is final.

A SUCCESS carries what the PSP kept of the charge (its processing fee, `psp_fee_minor`) when the PSP said so in the
payment's own currency: the ledger books it against what the PSP owes us. Unknown, it is None, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from finalizer.domain.event_types import (
    PAYMENT_ACTION_REQUIRED,
    PAYMENT_AUTHORIZED,
    PAYMENT_CANCELED,
    PAYMENT_FAILED,
    PAYMENT_SUCCEEDED,
)
from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money


class PaymentStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REQUIRES_ACTION = "REQUIRES_ACTION"  # the buyer must authenticate (3-D Secure): not final
    AUTHORIZED = "AUTHORIZED"  # held by the PSP until captured or canceled: not final
    CANCELED = "CANCELED"  # an authorization released, nothing captured


FINAL_STATUSES = frozenset({PaymentStatus.SUCCESS, PaymentStatus.FAILED, PaymentStatus.CANCELED})


class PspDecision(StrEnum):
    APPROVED = "APPROVED"  # charged (captured)
    DECLINED = "DECLINED"  # refused, or canceled before anything was captured
    REQUIRES_ACTION = "REQUIRES_ACTION"
    AUTHORIZED = "AUTHORIZED"  # held, awaiting capture (Stripe's requires_capture)


@dataclass(frozen=True)
class NextAction:
    """What the buyer's page does to authenticate: follow `redirect_url` (the PSP's page, which then sends the
    buyer to the merchant's return URL), or hand `client_secret` to Stripe.js. The secret confirms this one
    intent only; it goes to the merchant and never to a log."""

    type: str  # redirect_to_url | use_stripe_sdk
    redirect_url: str | None = None
    client_secret: str | None = field(default=None, repr=False)


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
    next_action: NextAction | None = None  # with REQUIRES_ACTION
    captured: Money | None = None  # with APPROVED: what the PSP received (less than authorized after a partial capture)
    # With APPROVED: what the PSP kept from the charge (its processing fee, in the currency it settled in); None
    # while the PSP has not said (its balance transaction not made yet).
    psp_fee: Money | None = None


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
    amount_authorized_minor: int | None = None  # a manual capture's SUCCESS: what was held (amount: captured)
    psp_fee_minor: int | None = None  # a SUCCESS's: the PSP's processing fee in `currency`; None: not known here
    # A first charge's outcome: when the payment was initiated (ISO), so the initializer can record it without
    # reading the order first. None for outcomes settled later (3-D Secure, captures) and older ones.
    initiated_at: str | None = None


@dataclass(frozen=True)
class PaymentSucceeded(PaymentDecided):
    event_type: ClassVar[str] = PAYMENT_SUCCEEDED


@dataclass(frozen=True)
class PaymentFailed(PaymentDecided):
    event_type: ClassVar[str] = PAYMENT_FAILED


@dataclass(frozen=True)
class PaymentCanceled(PaymentDecided):
    """An authorization released before any capture (by the merchant, the capture window's sweep or the PSP)."""

    event_type: ClassVar[str] = PAYMENT_CANCELED


@dataclass(frozen=True)
class PaymentAuthorized(DomainEvent):
    """The PSP holds the amount (PaymentIntent `psp_reference` in requires_capture) until captured or canceled;
    its data is PaymentStatusUpdated's with status AUTHORIZED."""

    event_type: ClassVar[str] = PAYMENT_AUTHORIZED
    payment_order_id: str
    merchant_id: str
    amount: str
    amount_minor: int
    currency: str
    psp_reference: str
    status: str = PaymentStatus.AUTHORIZED.value
    error_message: str | None = None


@dataclass(frozen=True)
class PaymentActionRequired(DomainEvent):
    """The PSP asks the buyer to authenticate the PaymentIntent `psp_reference` before it charges."""

    event_type: ClassVar[str] = PAYMENT_ACTION_REQUIRED
    payment_order_id: str
    merchant_id: str
    amount: str
    amount_minor: int
    currency: str
    psp_reference: str
    next_action_type: str
    redirect_url: str | None
    client_secret: str | None
    status: str = PaymentStatus.REQUIRES_ACTION.value


EVENTS = EventTypes(PaymentSucceeded, PaymentFailed, PaymentActionRequired, PaymentAuthorized, PaymentCanceled)


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
    return_url: str | None = None  # where the PSP's 3-D Secure page sends the buyer back to
    capture_method: str = "automatic"  # manual: authorize only; captured later on the merchant's request


@dataclass(frozen=True)
class CapturePayment:
    """Capture `amount` (at most the authorized amount; the PSP releases the rest) of an authorized payment."""

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: Money
    correlation_id: str
    causation_id: str | None = None  # the CaptureRequested event's id


@dataclass(frozen=True)
class CancelAuthorization:
    """Release an authorized payment's hold, with Stripe's cancellation reason."""

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    reason: str | None  # duplicate | fraudulent | requested_by_customer | abandoned, or none given
    correlation_id: str
    causation_id: str | None = None  # the CancelRequested event's id


@dataclass(frozen=True)
class RecordCharge:
    """Record the PSP's answer to a payment's charge."""

    payment: ChargePayment
    result: ChargeResult


@dataclass(frozen=True)
class RecordSettlement:
    """Record the PSP's later answer for a payment awaiting the buyer's authentication or, once authorized, its
    capture (a webhook, a redelivery or a sweep re-read its PaymentIntent; a capture or a cancel answered)."""

    result: ChargeResult


# State


@dataclass(frozen=True)
class Payment:
    """The charge's decision: None until the PSP's final answer is recorded, then that outcome for good;
    `awaiting` while the buyer has to authenticate; `authorized` once the PSP holds the amount for a capture."""

    outcome: PaymentDecided | None = None
    awaiting: PaymentActionRequired | None = None
    authorized: PaymentAuthorized | None = None

    @property
    def status(self) -> PaymentStatus | None:
        if self.outcome is not None:
            return PaymentStatus(self.outcome.status)
        if self.authorized is not None:
            return PaymentStatus.AUTHORIZED
        return PaymentStatus.REQUIRES_ACTION if self.awaiting is not None else None

    @property
    def psp_reference(self) -> str | None:
        """The PaymentIntent held or awaited (what a settlement, a capture or a cancel asks about)."""
        held = self.authorized or self.awaiting
        return held.psp_reference if held is not None else None


PaymentCommand = RecordCharge | RecordSettlement


def decide(command: PaymentCommand, state: Payment) -> Sequence[DomainEvent]:
    if state.outcome is not None:
        return []  # decided by an earlier delivery: the first answer recorded stands
    if state.authorized is not None:
        return _after_authorization(state.authorized, command.result)
    if isinstance(command, RecordSettlement):
        if state.awaiting is None:
            raise ValueError("a settlement for a payment that awaits no authentication")
        terms = _Terms(state.awaiting.payment_order_id, state.awaiting.merchant_id, _money(state.awaiting))
    else:
        payment = command.payment
        initiated_at = None if payment.initiated_at is None else payment.initiated_at.isoformat()
        terms = _Terms(str(payment.payment_order_id), str(payment.merchant_id), payment.amount, initiated_at)
    result = command.result
    if result.decision == PspDecision.REQUIRES_ACTION:
        return [] if state.awaiting is not None else [_action_required(terms, result)]
    if state.awaiting is not None and result.psp_reference not in (None, state.awaiting.psp_reference):
        raise ValueError(f"{terms.payment_order_id}: an answer for another PaymentIntent than the one awaited")
    if result.decision == PspDecision.AUTHORIZED:
        return [_authorized(terms, result)]
    return [_decided(terms, result)]


def _after_authorization(held: PaymentAuthorized, result: ChargeResult) -> Sequence[DomainEvent]:
    """An authorized payment: captured (SUCCESS with what was captured, never more than was held), released
    (CANCELED), or still held (nothing new)."""
    if result.psp_reference not in (None, held.psp_reference):
        raise ValueError(f"{held.payment_order_id}: an answer for another PaymentIntent than the one authorized")
    authorized = Money(int(held.amount_minor), held.currency)
    terms = _Terms(held.payment_order_id, held.merchant_id, authorized)
    if result.decision == PspDecision.AUTHORIZED:
        return []
    if result.decision == PspDecision.REQUIRES_ACTION:
        raise ValueError(f"{held.payment_order_id}: an authorized payment cannot await authentication again")
    if result.decision == PspDecision.DECLINED:
        return [_decided(terms, result, canceled=True)]
    captured = result.captured or authorized
    if captured.currency != authorized.currency or not (captured.is_positive() and captured <= authorized):
        raise ValueError(f"{held.payment_order_id}: captured {captured}, but {authorized} was authorized")
    return [_decided(_Terms(held.payment_order_id, held.merchant_id, captured), result, authorized=authorized)]


@dataclass(frozen=True)
class _Terms:
    payment_order_id: str
    merchant_id: str
    amount: Money
    initiated_at: str | None = None  # a charge's (the PaymentInitiated's occurred_at): see PaymentDecided


def _money(event: PaymentActionRequired) -> Money:
    return Money(int(event.amount_minor), event.currency)


def _decided(
    terms: _Terms, result: ChargeResult, *, canceled: bool = False, authorized: Money | None = None
) -> PaymentDecided:
    approved = result.decision == PspDecision.APPROVED
    decided: type[PaymentDecided] = PaymentSucceeded if approved else PaymentCanceled if canceled else PaymentFailed
    status = PaymentStatus.SUCCESS if approved else PaymentStatus.CANCELED if canceled else PaymentStatus.FAILED
    return decided(
        payment_order_id=terms.payment_order_id,
        merchant_id=terms.merchant_id,
        amount=terms.amount.to_decimal_string(),
        amount_minor=terms.amount.minor,
        currency=terms.amount.currency,
        status=status.value,
        error_message=None if approved else (result.error_message or "declined"),
        decline_code=None if approved else result.decline_code,
        psp_reference=result.psp_reference,
        amount_authorized_minor=authorized.minor if authorized is not None else None,
        psp_fee_minor=_psp_fee_minor(terms, result) if approved else None,
        initiated_at=terms.initiated_at,
    )


def _psp_fee_minor(terms: _Terms, result: ChargeResult) -> int | None:
    """The PSP's fee as the ledger may book it: only in the payment's own currency. A charge settled in another
    currency (Stripe converts to the account's settlement currency) has its fee there: not ours to book."""
    fee = result.psp_fee
    if fee is None or fee.currency != terms.amount.currency:
        return None
    return fee.minor


def _authorized(terms: _Terms, result: ChargeResult) -> PaymentAuthorized:
    if result.psp_reference is None:
        raise ValueError(f"{terms.payment_order_id}: an authorization needs its PaymentIntent")
    return PaymentAuthorized(
        payment_order_id=terms.payment_order_id,
        merchant_id=terms.merchant_id,
        amount=terms.amount.to_decimal_string(),
        amount_minor=terms.amount.minor,
        currency=terms.amount.currency,
        psp_reference=result.psp_reference,
    )


def _action_required(terms: _Terms, result: ChargeResult) -> PaymentActionRequired:
    action = result.next_action
    if result.psp_reference is None or action is None:
        raise ValueError(f"{terms.payment_order_id}: an authentication to do needs its PaymentIntent and action")
    return PaymentActionRequired(
        payment_order_id=terms.payment_order_id,
        merchant_id=terms.merchant_id,
        amount=terms.amount.to_decimal_string(),
        amount_minor=terms.amount.minor,
        currency=terms.amount.currency,
        psp_reference=result.psp_reference,
        next_action_type=action.type,
        redirect_url=action.redirect_url,
        client_secret=action.client_secret,
    )


def evolve(state: Payment, event: DomainEvent) -> Payment:
    if isinstance(event, PaymentDecided):
        return Payment(event, state.awaiting, state.authorized)
    if isinstance(event, PaymentActionRequired):
        return Payment(None, event)
    if isinstance(event, PaymentAuthorized):
        return Payment(None, state.awaiting, event)
    return state


DECIDER: Decider[Payment, PaymentCommand] = Decider(Payment(), decide, evolve, EVENTS)
