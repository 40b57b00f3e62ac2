"""A payment order as a decider: initiated once per request, then its outcome recorded once.

The state of an order's stream (`payment-<id>`, initializer.domain.streams) is `PaymentOrder | None`: no order
before its first event. Every stream starts with the event `initiate_payment` decides — PaymentInitiated or
PaymentRejected — and may end with PaymentOutcomeRecorded, after a PaymentActionRecorded when the buyer had to
authenticate (3-D Secure) first. An order with capture_method manual is first AUTHORIZED (a hold on the card);
the merchant then asks once for a capture (CaptureRequested: SUCCESS follows with the captured amount) or a
cancel (CancelRequested: CANCELED follows); the system cancels an authorization left past the capture window.
A successful order may then take refunds: each RefundRequested (refused beyond
what is left to refund, counting the refunds still in flight) and later its RefundOutcomeRecorded. The
cardholder's bank may dispute it: DisputeStatusRecorded once per dispute and status, OPENED then WON or LOST.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from initializer.domain.card import CardSummary, expires_before
from initializer.domain.commands import (
    FirstCharge,
    RecordDisputeStatus,
    RecordPaymentAction,
    RecordPaymentOutcome,
    RecordRefundOutcome,
    RequestCancel,
    RequestCapture,
    RequestRefund,
    SealedPayment,
)
from initializer.domain.errors import (
    AuthorizationAlreadySettled,
    CaptureExceedsAuthorized,
    CaptureKeyReused,
    IdempotencyKeyReused,
    PaymentDisputed,
    PaymentNotAuthorized,
    PaymentNotFound,
    PaymentNotRefundable,
    RefundCurrencyMismatch,
    RefundExceedsRemaining,
    RefundKeyReused,
)
from initializer.domain.event_types import (
    CANCEL_REQUESTED,
    CAPTURE_REQUESTED,
    DISPUTE_STATUS_RECORDED,
    PAYMENT_ACTION_RECORDED,
    PAYMENT_INITIATED,
    PAYMENT_OUTCOME_RECORDED,
    PAYMENT_REJECTED,
    REFUND_OUTCOME_RECORDED,
    REFUND_REQUESTED,
)
from initializer.domain.event_types import EVENT_SCHEMAS as EVENT_SCHEMAS  # their readers' name for them
from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money


class OrderStatus(StrEnum):
    INITIATED = "INITIATED"
    REQUIRES_ACTION = "REQUIRES_ACTION"  # the buyer must authenticate (3-D Secure): see next_action
    AUTHORIZED = "AUTHORIZED"  # manual capture: the card holds the amount until the merchant captures or cancels
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELED = "CANCELED"  # an authorization released: by the merchant, or by the system past the capture window

    # Shown for a successful payment once refunds took some or all of it (the payment's outcome stays SUCCESS).
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    # Shown while a dispute is OPENED; it wins over the refunded statuses (kept simple: an open dispute is what
    # the merchant must act on). WON or LOST: the refunded status (or SUCCESS) shows again.
    DISPUTED = "DISPUTED"


FINAL_STATUSES = frozenset({OrderStatus.SUCCESS, OrderStatus.FAILED, OrderStatus.CANCELED})
# The finalizer's statuses the order records: the final ones and AUTHORIZED, only forward (AUTHORIZED only from
# a status before it).
RECORDED_STATUSES = FINAL_STATUSES | {OrderStatus.AUTHORIZED}


class RefundStatus(StrEnum):
    PENDING = "PENDING"  # asked of the PSP, no answer yet
    SUCCEEDED = "SUCCEEDED"  # the PSP took it: the money is on its way back to the buyer
    FAILED = "FAILED"  # the PSP refused it: nothing moved
    REVERSED = "REVERSED"  # taken, then failed at the card network: the money came back to the merchant


# What an answer may move a refund to, from where it stands (any other answer is late or a duplicate). REVERSED
# from PENDING: the reversal overtook the success on the bus.
REFUND_TRANSITIONS = {
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.REVERSED}),
    RefundStatus.SUCCEEDED: frozenset({RefundStatus.REVERSED}),
}


class DisputeStatus(StrEnum):
    OPENED = "OPENED"  # the bank took the amount (and the PSP its fee) back; the merchant may answer
    WON = "WON"
    LOST = "LOST"


# Only forward: a close seen first is recorded (the OPENED behind it on the bus then changes nothing).
DISPUTE_TRANSITIONS = {
    None: frozenset({DisputeStatus.OPENED, DisputeStatus.WON, DisputeStatus.LOST}),
    DisputeStatus.OPENED: frozenset({DisputeStatus.WON, DisputeStatus.LOST}),
}


@dataclass(frozen=True)
class PaymentInitiationEvent(DomainEvent):
    """The fields both events of `initiate_payment` record (PaymentInitiated, PaymentRejected), one of which opens
    every order's stream: the order as asked, the card only as brand, last 4 and fingerprint."""

    payment_order_id: str
    merchant_id: str
    amount: str
    amount_minor: int
    currency: str
    buyer_country: str
    buyer: Mapping[str, str]  # name, email, country: the read model's buyer_info; never published
    card: Mapping[str, str] | None  # brand, last4, fingerprint; None for a payment method
    request_fingerprint: str  # tells a retry from a reused Idempotency-Key; never published
    created_at: str
    payment_method: str | None = None  # the Stripe PaymentMethod (pm_…) it pays with, instead of a card
    return_url: str | None = None  # where 3-D Secure sends the buyer back to (orders from before have none)
    capture_method: str = "automatic"  # manual: authorized first, captured on the merchant's request


@dataclass(frozen=True)
class PaymentInitiated(PaymentInitiationEvent):
    event_type: ClassVar[str] = PAYMENT_INITIATED
    # The finalizer charges from the event alone: the sealed details travel with it (no service reads
    # another's table). A rejected order is never charged, so its event carries none.
    payment_details: str | None = None


@dataclass(frozen=True)
class PaymentRejected(PaymentInitiationEvent):
    event_type: ClassVar[str] = PAYMENT_REJECTED
    status: str = OrderStatus.FAILED.value
    reason: str = ""


@dataclass(frozen=True)
class PaymentOutcomeRecorded(DomainEvent):
    event_type: ClassVar[str] = PAYMENT_OUTCOME_RECORDED
    status: str
    error_message: str | None
    source_event_id: str
    # AUTHORIZED: the amount held; SUCCESS after a manual capture: the amount captured. None (and in outcomes
    # recorded before manual capture): the order's amount.
    amount_minor: int | None = None


@dataclass(frozen=True)
class PaymentActionRecorded(DomainEvent):
    """The buyer must authenticate: what its page needs, for GET /payments/{id}."""

    event_type: ClassVar[str] = PAYMENT_ACTION_RECORDED
    next_action_type: str
    redirect_url: str | None
    client_secret: str | None
    source_event_id: str


@dataclass(frozen=True)
class NextAction:
    type: str
    redirect_url: str | None
    client_secret: str | None = field(repr=False)


@dataclass(frozen=True)
class RefundRequested(DomainEvent):
    """The merchant's refund, within what was left to refund; published (its contract's fields) to the finalizer."""

    event_type: ClassVar[str] = REFUND_REQUESTED
    refund_id: str
    payment_order_id: str
    merchant_id: str
    amount: str
    amount_minor: int
    currency: str
    reason: str | None
    request_fingerprint: str  # tells a retry from a reused key; never published
    requested_at: str


@dataclass(frozen=True)
class RefundOutcomeRecorded(DomainEvent):
    event_type: ClassVar[str] = REFUND_OUTCOME_RECORDED
    refund_id: str
    status: str  # RefundStatus
    failure_reason: str | None
    source_event_id: str


@dataclass(frozen=True)
class DisputeStatusRecorded(DomainEvent):
    """The finalizer's DisputeStatusUpdated on this order: a dispute's amounts and where it stands."""

    event_type: ClassVar[str] = DISPUTE_STATUS_RECORDED
    dispute_id: str
    amount_minor: int
    fee_minor: int
    currency: str
    status: str  # DisputeStatus
    reason: str | None
    source_event_id: str


@dataclass(frozen=True)
class CaptureRequested(DomainEvent):
    """The merchant's capture of an AUTHORIZED order, within the authorized amount; published (its contract's
    fields) to the finalizer."""

    event_type: ClassVar[str] = CAPTURE_REQUESTED
    payment_order_id: str
    merchant_id: str
    currency: str
    amount_minor: int
    idempotency_key: str
    request_fingerprint: str  # tells a retry from a reused key; never published
    requested_at: str


@dataclass(frozen=True)
class CancelRequested(DomainEvent):
    """The merchant's cancel of an AUTHORIZED order; published (its contract's fields) to the finalizer."""

    event_type: ClassVar[str] = CANCEL_REQUESTED
    payment_order_id: str
    merchant_id: str
    cancellation_reason: str | None
    idempotency_key: str  # the request's key: a retry with it answers as the first did; never published
    request_fingerprint: str
    requested_at: str


@dataclass(frozen=True)
class Settlement:
    """The one capture or cancel asked of an authorization, and under which key."""

    kind: str  # "capture" | "cancel"
    idempotency_key: str
    request_fingerprint: str
    amount: Money | None  # a capture's amount
    cancellation_reason: str | None = None


EVENTS = EventTypes(
    PaymentInitiated,
    PaymentRejected,
    PaymentOutcomeRecorded,
    PaymentActionRecorded,
    RefundRequested,
    RefundOutcomeRecorded,
    CaptureRequested,
    CancelRequested,
    DisputeStatusRecorded,
)


@dataclass(frozen=True)
class PaymentPolicy:
    """Business limits, from configuration. A currency without a limit is not supported."""

    max_amounts: Mapping[str, Money]
    blocked_merchants: frozenset[str] = frozenset()

    def refusal(self, command: SealedPayment, today: date) -> str | None:
        limit = self.max_amounts.get(command.amount.currency)
        if limit is None:
            return f"currency {command.amount.currency} is not supported"
        if not command.amount.is_positive():
            return "amount must be greater than zero"
        if limit < command.amount:
            return f"amount exceeds the limit of {limit}"
        if command.merchant_id in self.blocked_merchants:
            return "merchant is blocked"
        month, year = command.expiry_month, command.expiry_year  # a payment method's card: Stripe judges it
        if month is not None and year is not None and expires_before(month, year, today):
            return "card has expired"
        return None


@dataclass(frozen=True)
class Refund:
    refund_id: str
    amount: Money
    reason: str | None
    status: RefundStatus
    requested_at: str
    request_fingerprint: str
    failure_reason: str | None = None

    @property
    def holds(self) -> bool:
        """Whether it takes from what is left to refund: in flight or taken (a failed one gave it back)."""
        return self.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


@dataclass(frozen=True)
class Dispute:
    dispute_id: str
    amount: Money
    fee: Money  # the PSP's dispute fee, never returned
    status: DisputeStatus
    reason: str | None


@dataclass(frozen=True)
class PaymentOrder:
    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: Money
    status: OrderStatus
    created_at: datetime
    request_fingerprint: str
    card: CardSummary | None  # None when it pays with a payment method
    failure_reason: str | None = None
    outcome_event_ids: frozenset[str] = frozenset()  # the finalizer's events already recorded
    payment_method: str | None = None
    next_action: NextAction | None = None  # while REQUIRES_ACTION
    refunds: tuple[Refund, ...] = ()  # in the order they were asked
    capture_method: str = "automatic"
    authorized: Money | None = None  # a manual capture's hold, once AUTHORIZED
    captured: Money | None = None  # what SUCCESS took: the amount, or a manual capture's (possibly smaller) part
    settlement: Settlement | None = None  # the capture or cancel asked of the authorization
    disputes: tuple[Dispute, ...] = ()  # in the order they were first seen

    def dispute(self, dispute_id: str) -> Dispute | None:
        return next((dispute for dispute in self.disputes if dispute.dispute_id == dispute_id), None)

    def open_disputes(self) -> tuple[str, ...]:
        return tuple(dispute.dispute_id for dispute in self.disputes if dispute.status == DisputeStatus.OPENED)

    def disputed(self) -> bool:
        return bool(self.open_disputes())

    def refund(self, refund_id: str) -> Refund | None:
        return next((refund for refund in self.refunds if refund.refund_id == refund_id), None)

    def _sum(self, refunds: Sequence[Refund]) -> Money:
        return sum((refund.amount for refund in refunds), Money(0, self.amount.currency))

    def charged(self) -> Money:
        """What the payment took from the buyer: the captured amount once SUCCESS (all of it when captured
        automatically), nothing before."""
        if self.status != OrderStatus.SUCCESS:
            return Money(0, self.amount.currency)
        return self.amount if self.captured is None else self.captured

    def left_to_refund(self) -> Money:
        """The captured amount less every refund taken or in flight: the most a new refund may ask for."""
        return self.charged() - self._sum([refund for refund in self.refunds if refund.holds])

    def refunded(self) -> Money:
        return self._sum([refund for refund in self.refunds if refund.status == RefundStatus.SUCCEEDED])

    @property
    def shown_status(self) -> OrderStatus:
        """The status a merchant reads: a successful payment says it is disputed while a dispute is open, else
        how much of it refunds took back (the payment's outcome stays SUCCESS)."""
        if self.status == OrderStatus.SUCCESS and self.disputed():
            return OrderStatus.DISPUTED
        if self.status != OrderStatus.SUCCESS or not self.refunded().is_positive():
            return self.status
        return OrderStatus.REFUNDED if self.refunded() == self.charged() else OrderStatus.PARTIALLY_REFUNDED


def as_first_left(payment_order_id: str, first: FirstCharge) -> PaymentOrder:
    """The order as its first event left it, presumed by the outcome of its first charge: initiated, captured
    automatically, nothing recorded since (stream version 1). What the outcome does not tell — the request's
    fingerprint, the card, the payment method — is blank here: no outcome's decision or row reads it. The
    presumption holds only where the write that relies on it is guarded (initializer.rows.presumed_fields)."""
    return PaymentOrder(
        payment_order_id=PaymentOrderId(payment_order_id),
        merchant_id=first.merchant_id,
        amount=first.amount,
        status=OrderStatus.INITIATED,
        created_at=first.initiated_at,
        request_fingerprint="",
        card=None,
    )


OrderCommand = (
    SealedPayment
    | RecordPaymentOutcome
    | RecordPaymentAction
    | RequestRefund
    | RecordRefundOutcome
    | RequestCapture
    | RequestCancel
    | RecordDisputeStatus
)


def decide(command: OrderCommand, order: PaymentOrder | None, policy: PaymentPolicy) -> Sequence[DomainEvent]:
    if isinstance(command, SealedPayment):
        return _initiate(command, order, policy)
    if isinstance(command, RecordPaymentAction):
        return _record_action(command, order)
    if isinstance(command, RequestRefund):
        return _request_refund(command, order)
    if isinstance(command, RecordRefundOutcome):
        return _record_refund_outcome(command, order)
    if isinstance(command, RequestCapture | RequestCancel):
        return _settle(command, order)
    if isinstance(command, RecordDisputeStatus):
        return _record_dispute(command, order)
    return _record_outcome(command, order)


def _initiate(command: SealedPayment, order: PaymentOrder | None, policy: PaymentPolicy) -> list[DomainEvent]:
    """PaymentInitiated, or PaymentRejected with the reason the rules give. On an order that exists (the request's
    Idempotency-Key names it): nothing for the same request (a retry), IdempotencyKeyReused for another one."""
    if order is not None:
        if order.request_fingerprint != command.request_fingerprint:
            raise IdempotencyKeyReused(order.payment_order_id)
        return []
    card = command.card
    initiated: dict[str, Any] = {
        "payment_order_id": str(command.payment_order_id),
        "merchant_id": str(command.merchant_id),
        "amount": command.amount.to_decimal_string(),
        "amount_minor": command.amount.minor,
        "currency": command.amount.currency,
        "buyer_country": command.buyer.country,
        "buyer": {"name": command.buyer.name, "email": command.buyer.email, "country": command.buyer.country},
        "card": None if card is None else {"brand": card.brand, "last4": card.last4, "fingerprint": card.fingerprint},
        "request_fingerprint": command.request_fingerprint,
        "created_at": command.received_at.isoformat(),
        "payment_method": command.payment_method,
        "return_url": command.return_url,
        "capture_method": command.capture_method,
    }
    reason = policy.refusal(command, command.received_at.date())
    if reason is None:
        return [PaymentInitiated(**initiated, payment_details=command.sealed_payment_details)]
    return [PaymentRejected(**initiated, reason=reason)]


def _record_outcome(command: RecordPaymentOutcome, order: PaymentOrder | None) -> list[DomainEvent]:
    """The finalizer's decision; nothing when there is nothing new (a duplicate, a late flip, an order already
    final, an AUTHORIZED that a final status overtook on the bus). An outcome before its order is refused: the
    queue redelivers it until the order exists."""
    if order is None:
        raise PaymentNotFound(command.payment_order_id)
    if command.source_event_id in order.outcome_event_ids or order.status in FINAL_STATUSES:
        return []
    outcome = OrderStatus(command.status)
    if outcome not in RECORDED_STATUSES or (outcome == OrderStatus.AUTHORIZED and order.status == outcome):
        return []
    # A manual capture's amounts may differ from the order's (a partial capture); automatic: the order's.
    amount_minor = command.amount_minor if order.capture_method == "manual" else None
    return [PaymentOutcomeRecorded(outcome.value, command.error_message, command.source_event_id, amount_minor)]


def _record_action(command: RecordPaymentAction, order: PaymentOrder | None) -> list[DomainEvent]:
    """The buyer must authenticate; nothing once the order is final (the outcome overtook this event on the
    bus) or for a duplicate."""
    if order is None:
        raise PaymentNotFound(command.payment_order_id)
    if command.source_event_id in order.outcome_event_ids or order.status in FINAL_STATUSES:
        return []
    return [
        PaymentActionRecorded(
            command.next_action_type, command.redirect_url, command.client_secret, command.source_event_id
        )
    ]


def _request_refund(command: RequestRefund, order: PaymentOrder | None) -> list[DomainEvent]:
    """RefundRequested within what is left to refund; nothing for a retry (the same request under its key)."""
    if order is None or command.caller_merchant_id not in (None, order.merchant_id):
        raise PaymentNotFound(command.payment_order_id)  # another merchant's payment: not even disclosed
    asked = order.refund(command.refund_id)
    if asked is not None:
        if asked.request_fingerprint != command.request_fingerprint:
            raise RefundKeyReused(order.payment_order_id, command.refund_id)
        return []
    if order.status != OrderStatus.SUCCESS:
        raise PaymentNotRefundable(order.payment_order_id, order.status.value)
    if order.disputed():
        raise PaymentDisputed(order.payment_order_id, order.open_disputes())
    left = order.left_to_refund()
    if command.amount is not None and command.amount.currency != left.currency:
        raise RefundCurrencyMismatch(command.amount.currency, left.currency)
    amount = left if command.amount is None else command.amount
    if not amount.is_positive() or left < amount:
        raise RefundExceedsRemaining(command.amount, left)
    return [
        RefundRequested(
            refund_id=command.refund_id,
            payment_order_id=str(order.payment_order_id),
            merchant_id=str(order.merchant_id),
            amount=amount.to_decimal_string(),
            amount_minor=amount.minor,
            currency=amount.currency,
            reason=command.reason,
            request_fingerprint=command.request_fingerprint,
            requested_at=command.requested_at.isoformat(),
        )
    ]


def _settle(command: RequestCapture | RequestCancel, order: PaymentOrder | None) -> list[DomainEvent]:
    """CaptureRequested or CancelRequested of an AUTHORIZED order, once: nothing for a retry under the first
    request's key; a second capture or cancel (another key) is refused, as is any of an order not AUTHORIZED."""
    if order is None or command.caller_merchant_id not in (None, order.merchant_id):
        raise PaymentNotFound(command.payment_order_id)  # another merchant's payment: not even disclosed
    kind = "capture" if isinstance(command, RequestCapture) else "cancel"
    asked = order.settlement
    if asked is not None and (asked.kind, asked.idempotency_key) == (kind, command.idempotency_key):
        if asked.request_fingerprint != command.request_fingerprint:
            raise CaptureKeyReused(order.payment_order_id, kind)
        return []
    if asked is not None:
        raise AuthorizationAlreadySettled(order.payment_order_id, asked.kind)
    if order.status != OrderStatus.AUTHORIZED:
        act = "captured" if kind == "capture" else "canceled"
        raise PaymentNotAuthorized(order.payment_order_id, order.shown_status.value, act)
    requested_at = command.requested_at.isoformat()
    if isinstance(command, RequestCancel):
        return [
            CancelRequested(
                payment_order_id=str(order.payment_order_id),
                merchant_id=str(order.merchant_id),
                cancellation_reason=command.cancellation_reason,
                idempotency_key=command.idempotency_key,
                request_fingerprint=command.request_fingerprint,
                requested_at=requested_at,
            )
        ]
    authorized = order.authorized or order.amount
    if command.amount is not None and command.amount.currency != authorized.currency:
        raise RefundCurrencyMismatch(command.amount.currency, authorized.currency)
    amount = authorized if command.amount is None else command.amount
    if not amount.is_positive() or authorized < amount:
        raise CaptureExceedsAuthorized(amount, authorized)
    return [
        CaptureRequested(
            payment_order_id=str(order.payment_order_id),
            merchant_id=str(order.merchant_id),
            currency=amount.currency,
            amount_minor=amount.minor,
            idempotency_key=command.idempotency_key,
            request_fingerprint=command.request_fingerprint,
            requested_at=requested_at,
        )
    ]


def _record_refund_outcome(command: RecordRefundOutcome, order: PaymentOrder | None) -> list[DomainEvent]:
    """The PSP's answer to one of the order's refunds; nothing for a duplicate or an answer it has moved past."""
    if order is None:
        raise PaymentNotFound(command.payment_order_id)
    refund = order.refund(command.refund_id)
    if refund is None:
        raise ValueError(f"{command.payment_order_id}: an answer for refund {command.refund_id}, never asked here")
    answer = RefundStatus(command.status)
    if command.source_event_id in order.outcome_event_ids or answer not in REFUND_TRANSITIONS.get(
        refund.status, frozenset()
    ):
        return []
    return [RefundOutcomeRecorded(command.refund_id, answer.value, command.failure_reason, command.source_event_id)]


def _record_dispute(command: RecordDisputeStatus, order: PaymentOrder | None) -> list[DomainEvent]:
    """A dispute's status, only forward; nothing for a redelivery, a duplicate event or a late OPENED. Before its
    order it is refused: the queue redelivers it until the order exists."""
    if order is None:
        raise PaymentNotFound(command.payment_order_id)
    known = order.dispute(command.dispute_id)
    status = DisputeStatus(command.status)
    if command.source_event_id in order.outcome_event_ids or status not in DISPUTE_TRANSITIONS.get(
        None if known is None else known.status, frozenset()
    ):
        return []
    return [
        DisputeStatusRecorded(
            dispute_id=command.dispute_id,
            amount_minor=command.amount.minor,
            fee_minor=command.fee.minor,
            currency=command.amount.currency,
            status=status.value,
            reason=command.reason,
            source_event_id=command.source_event_id,
        )
    ]


def evolve(order: PaymentOrder | None, event: DomainEvent) -> PaymentOrder | None:
    """The order after one more event: the only place its state changes."""
    if isinstance(event, PaymentInitiationEvent):
        return PaymentOrder(
            payment_order_id=PaymentOrderId(event.payment_order_id),
            merchant_id=MerchantId(event.merchant_id),
            amount=Money(int(event.amount_minor), event.currency),
            status=OrderStatus.INITIATED if isinstance(event, PaymentInitiated) else OrderStatus.FAILED,
            created_at=datetime.fromisoformat(event.created_at),
            request_fingerprint=event.request_fingerprint,
            card=None if event.card is None else CardSummary(**event.card),
            payment_method=event.payment_method,
            failure_reason=event.reason if isinstance(event, PaymentRejected) else None,
            capture_method=event.capture_method,
        )
    if isinstance(event, PaymentOutcomeRecorded) and order is not None:
        status = OrderStatus(event.status)
        amount = None if event.amount_minor is None else Money(int(event.amount_minor), order.amount.currency)
        return replace(
            order,
            status=status,
            failure_reason=event.error_message,
            outcome_event_ids=order.outcome_event_ids | {event.source_event_id},
            next_action=None,
            authorized=(amount or order.amount) if status == OrderStatus.AUTHORIZED else order.authorized,
            captured=amount if status == OrderStatus.SUCCESS else order.captured,
        )
    if isinstance(event, CaptureRequested) and order is not None:
        capture = Money(int(event.amount_minor), event.currency)
        settlement = Settlement("capture", event.idempotency_key, event.request_fingerprint, capture)
        return replace(order, settlement=settlement)
    if isinstance(event, CancelRequested) and order is not None:
        settlement = Settlement(
            "cancel", event.idempotency_key, event.request_fingerprint, None, event.cancellation_reason
        )
        return replace(order, settlement=settlement)
    if isinstance(event, PaymentActionRecorded) and order is not None:
        return replace(
            order,
            status=OrderStatus.REQUIRES_ACTION,
            next_action=NextAction(event.next_action_type, event.redirect_url, event.client_secret),
            outcome_event_ids=order.outcome_event_ids | {event.source_event_id},
        )
    if isinstance(event, RefundRequested) and order is not None:
        asked = Refund(
            refund_id=event.refund_id,
            amount=Money(int(event.amount_minor), event.currency),
            reason=event.reason,
            status=RefundStatus.PENDING,
            requested_at=event.requested_at,
            request_fingerprint=event.request_fingerprint,
        )
        return replace(order, refunds=(*order.refunds, asked))
    if isinstance(event, RefundOutcomeRecorded) and order is not None:
        refunds = tuple(
            replace(refund, status=RefundStatus(event.status), failure_reason=event.failure_reason)
            if refund.refund_id == event.refund_id
            else refund
            for refund in order.refunds
        )
        return replace(order, refunds=refunds, outcome_event_ids=order.outcome_event_ids | {event.source_event_id})
    if isinstance(event, DisputeStatusRecorded) and order is not None:
        dispute = Dispute(
            dispute_id=event.dispute_id,
            amount=Money(int(event.amount_minor), event.currency),
            fee=Money(int(event.fee_minor), event.currency),
            status=DisputeStatus(event.status),
            reason=event.reason,
        )
        known = order.dispute(event.dispute_id) is not None
        disputes = (
            tuple(dispute if d.dispute_id == event.dispute_id else d for d in order.disputes)
            if known
            else (*order.disputes, dispute)
        )
        return replace(order, disputes=disputes, outcome_event_ids=order.outcome_event_ids | {event.source_event_id})
    return order


def order_decider(policy: PaymentPolicy) -> Decider[PaymentOrder | None, OrderCommand]:
    """The order's decider under the service's payment policy (configuration, so one decider per policy)."""

    def decide_under_policy(command: OrderCommand, order: PaymentOrder | None) -> Sequence[DomainEvent]:
        return decide(command, order, policy)

    return Decider(initial=None, decide=decide_under_policy, evolve=evolve, events=EVENTS)
