"""The PaymentOrder aggregate: decides on a new order and folds its events into state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from initializer.domain.card import CardSummary, expires_before
from initializer.domain.errors import IdempotencyKeyReused
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.eventstore.schemas import Schemas
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money


class OrderStatus(StrEnum):
    INITIATED = "INITIATED"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


FINAL_STATUSES = frozenset({OrderStatus.SUCCESS, OrderStatus.FAILED})

PAYMENT_INITIATED = "PaymentInitiated"
PAYMENT_REJECTED = "PaymentRejected"
PAYMENT_OUTCOME_RECORDED = "PaymentOutcomeRecorded"


def _buyer_from_country(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept only the buyer's country; version 2 keeps the buyer (the read model's buyer_info)."""
    return {**data, "buyer": {"country": data["buyer_country"]}}


# How this service's stored events changed shape: every reader sees version 2 (see eventstore.schemas).
SCHEMAS = Schemas({(PAYMENT_INITIATED, 1): _buyer_from_country, (PAYMENT_REJECTED, 1): _buyer_from_country})


@dataclass(frozen=True)
class OrderStarted(DomainEvent):
    """What every new order records: the order as accepted (the card only as brand, last 4, fingerprint)."""

    payment_order_id: str
    merchant_id: str
    amount: str
    amount_minor: int
    currency: str
    buyer_country: str
    buyer: Mapping[str, str]  # name, email, country: the read model's buyer_info; never published
    card: Mapping[str, str]  # brand, last4, fingerprint
    request_fingerprint: str  # tells a retry from a reused Idempotency-Key; never published
    created_at: str


@dataclass(frozen=True)
class PaymentInitiated(OrderStarted):
    event_type: ClassVar[str] = PAYMENT_INITIATED
    # The finalizer charges from the event alone: the sealed details travel with it (no service reads
    # another's table). A rejected order is never charged, so its event carries none.
    payment_details: str = ""


@dataclass(frozen=True)
class PaymentRejected(OrderStarted):
    event_type: ClassVar[str] = PAYMENT_REJECTED
    status: str = OrderStatus.FAILED.value
    reason: str = ""


@dataclass(frozen=True)
class PaymentOutcomeRecorded(DomainEvent):
    event_type: ClassVar[str] = PAYMENT_OUTCOME_RECORDED
    status: str
    error_message: str | None
    source_event_id: str


EVENTS = EventTypes(PaymentInitiated, PaymentRejected, PaymentOutcomeRecorded)


@dataclass(frozen=True)
class BuyerInfo:
    name: str
    email: str
    country: str


@dataclass(frozen=True)
class InitiatePayment:
    """A well-formed order (every field already valid); business rules are decided on it here."""

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: Money
    buyer: BuyerInfo
    card: CardSummary
    expiry_month: int
    expiry_year: int
    request_fingerprint: str  # keyed digest of the request, to tell a retry from a reused key
    sealed_payment_details: str  # card details sealed for the finalizer alone (see card_envelope)


@dataclass(frozen=True)
class PaymentPolicy:
    """Business limits, from configuration. A currency without a limit is not supported."""

    max_amounts: Mapping[str, Money]
    blocked_merchants: frozenset[str] = frozenset()

    def refusal(self, command: InitiatePayment, today: date) -> str | None:
        limit = self.max_amounts.get(command.amount.currency)
        if limit is None:
            return f"currency {command.amount.currency} is not supported"
        if not command.amount.is_positive():
            return "amount must be greater than zero"
        if limit < command.amount:
            return f"amount exceeds the limit of {limit}"
        if command.merchant_id in self.blocked_merchants:
            return "merchant is blocked"
        if expires_before(command.expiry_month, command.expiry_year, today):
            return "card has expired"
        return None


@dataclass(frozen=True)
class PaymentOrder:
    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: Money
    status: OrderStatus
    created_at: datetime
    request_fingerprint: str
    card: CardSummary
    failure_reason: str | None = None
    version: int = 0
    outcome_event_ids: frozenset[str] = field(default_factory=frozenset)
    # Events a command decided and applied, not yet stored: the use case appends them. Not state.
    pending: tuple[DomainEvent, ...] = field(default=(), compare=False, repr=False)

    @staticmethod
    def initiate(command: InitiatePayment, policy: PaymentPolicy, now: datetime) -> PaymentOrder:
        """The order a well-formed command starts, with exactly one pending event: PaymentInitiated, or
        PaymentRejected with the reason."""
        started: dict[str, Any] = {
            "payment_order_id": str(command.payment_order_id),
            "merchant_id": str(command.merchant_id),
            "amount": command.amount.to_decimal_string(),
            "amount_minor": command.amount.minor,
            "currency": command.amount.currency,
            "buyer_country": command.buyer.country,
            "buyer": {"name": command.buyer.name, "email": command.buyer.email, "country": command.buyer.country},
            "card": {"brand": command.card.brand, "last4": command.card.last4, "fingerprint": command.card.fingerprint},
            "request_fingerprint": command.request_fingerprint,
            "created_at": now.isoformat(),
        }
        reason = policy.refusal(command, now.date())
        event: OrderStarted = (
            PaymentInitiated(**started, payment_details=command.sealed_payment_details)
            if reason is None
            else PaymentRejected(**started, reason=reason)
        )
        return replace(_started(event), pending=(event,))

    def ensure_same_request(self, request_fingerprint: str) -> None:
        if request_fingerprint != self.request_fingerprint:
            raise IdempotencyKeyReused(self.payment_order_id)

    def record_outcome(self, status: str, error_message: str | None, source_event_id: str) -> PaymentOrder:
        """The order with the finalizer's decision applied and pending; unchanged, nothing pending, when there
        is nothing new (a duplicate, a late flip, an order already final)."""
        if source_event_id in self.outcome_event_ids or self.status in FINAL_STATUSES:
            return self
        outcome = OrderStatus(status)
        if outcome not in FINAL_STATUSES:
            return self
        event = PaymentOutcomeRecorded(outcome.value, error_message, source_event_id)
        return replace(_applied(self, self.version + 1, event), pending=(*self.pending, event))


def _started(event: OrderStarted) -> PaymentOrder:
    order = apply(None, 1, event)
    if order is None:
        raise TypeError(f"{event.event_type} does not start an order")
    return order


def _applied(order: PaymentOrder, version: int, event: DomainEvent) -> PaymentOrder:
    applied = apply(order, version, event)
    if applied is None:
        raise TypeError(f"{event.event_type} left no order")
    return applied


def apply(order: PaymentOrder | None, version: int, event: DomainEvent) -> PaymentOrder | None:
    """The order after one more event: the only place its state changes."""
    if isinstance(event, OrderStarted):
        return PaymentOrder(
            payment_order_id=PaymentOrderId(event.payment_order_id),
            merchant_id=MerchantId(event.merchant_id),
            amount=Money(int(event.amount_minor), event.currency),
            status=OrderStatus.INITIATED if isinstance(event, PaymentInitiated) else OrderStatus.FAILED,
            created_at=datetime.fromisoformat(event.created_at),
            request_fingerprint=event.request_fingerprint,
            card=CardSummary(event.card["brand"], event.card["last4"], event.card["fingerprint"]),
            failure_reason=event.reason if isinstance(event, PaymentRejected) else None,
            version=version,
        )
    if isinstance(event, PaymentOutcomeRecorded) and order is not None:
        return replace(
            order,
            status=OrderStatus(event.status),
            failure_reason=event.error_message,
            version=version,
            outcome_event_ids=order.outcome_event_ids | {event.source_event_id},
        )
    return order


def fold(
    events: Sequence[tuple[int, str, Mapping[str, Any]]], order: PaymentOrder | None = None
) -> PaymentOrder | None:
    """Rebuild an order from stored (version, event_type, data) — today's shape, as the store loads them —
    from scratch or on top of `order`; None for an empty stream."""
    for version, event_type, data in events:
        order = apply(order, version, EVENTS.decode(event_type, data))
    return order
