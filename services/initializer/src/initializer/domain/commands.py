"""What is asked of a payment order, as plain values (the HTTP model stays at the edge).

One act, "initiate a payment", has one name: the merchant asks `InitiatePayment` (built at the HTTP edge from
the request), the use case `initiate_payment` handles it, and the order decides `PaymentInitiated` or
`PaymentRejected`. The finalizer's outcome is recorded with `RecordPaymentOutcome` → `PaymentOutcomeRecorded`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from initializer.domain.card import CardSummary, card_brand
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money


@dataclass(frozen=True)
class BuyerInfo:
    name: str
    email: str
    country: str


@dataclass(frozen=True)
class CardEntry:
    """The card as the buyer entered it, in memory only while the payment is initiated. The CVV was checked at
    the edge and is not here: it is never stored, sealed or sent on (PCI DSS 3.3.2)."""

    number: str = field(repr=False)
    expiry_month: int
    expiry_year: int
    holder_name: str = field(repr=False)

    def details(self) -> dict[str, str | int]:
        """What is sealed for the finalizer, who alone opens it to charge the card."""
        return {
            "card_number": self.number,
            "expiry_month": self.expiry_month,
            "expiry_year": self.expiry_year,
            "holder_name": self.holder_name,
        }


@dataclass(frozen=True)
class InitiatePayment:
    """The merchant asks to initiate a payment: the request as it came, the card in clear.

    The order cannot decide on this: the card must first be fingerprinted and sealed, which is I/O (the card
    vault, through KMS) and so the use case's work, not the decider's. `sealed` gives the same act with the card
    sealed — `SealedPayment`, the command the order decides on. Two types for one act, so that no card number
    ever reaches the domain's decision or its events, and the decision stays pure.
    """

    merchant_id: MerchantId
    amount: Money  # zero or negative is well-formed: the business rules refuse it (the order is FAILED)
    buyer: BuyerInfo
    card: CardEntry | None  # exactly one of a card and a payment method
    idempotency_key: str | None = None
    payment_method: str | None = None  # a Stripe PaymentMethod (pm_…) the buyer's browser made: no card data here
    return_url: str | None = None  # the merchant's page the buyer comes back to after 3-D Secure
    capture_method: str = "automatic"  # manual: authorize only, captured or canceled later by the merchant

    def fingerprint(self, card_fingerprint: str | None) -> str:
        """A digest of the request that tells a retry from a reused key. The card enters only through its keyed
        fingerprint, so the digest reveals nothing about it."""
        paid_with: object = (
            [card_fingerprint, self.card.expiry_month, self.card.expiry_year, self.card.holder_name]
            if self.card is not None
            else {"payment_method": self.payment_method}
        )
        canonical = {
            "merchant_id": str(self.merchant_id),
            "currency": self.amount.currency,
            "amount": self.amount.to_decimal_string(),
            "buyer_info": {"name": self.buyer.name, "email": self.buyer.email, "country": self.buyer.country},
            "payment_details": paid_with,
            # Only when given: the fingerprints of orders from before return URLs stay what they were.
            **({"return_url": self.return_url} if self.return_url is not None else {}),
            **({"capture_method": self.capture_method} if self.capture_method != "automatic" else {}),
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()

    def sealed(
        self,
        payment_order_id: PaymentOrderId,
        card_fingerprint: str | None,
        sealed_details: str | None,
        received_at: datetime,
    ) -> SealedPayment:
        """This request, for the order it names, with the card (if it pays by card) as its vault gave it back:
        fingerprinted and sealed for that order."""
        card = self.card
        summary = None
        if card is not None and card_fingerprint is not None:
            summary = CardSummary(card_brand(card.number), card.number[-4:], card_fingerprint)
        return SealedPayment(
            payment_order_id=payment_order_id,
            merchant_id=self.merchant_id,
            amount=self.amount,
            buyer=self.buyer,
            card=summary,
            expiry_month=card.expiry_month if card else None,
            expiry_year=card.expiry_year if card else None,
            request_fingerprint=self.fingerprint(card_fingerprint),
            sealed_payment_details=sealed_details,
            received_at=received_at,
            payment_method=self.payment_method,
            return_url=self.return_url,
            capture_method=self.capture_method,
        )


@dataclass(frozen=True)
class SealedPayment:
    """InitiatePayment as the order decides it: the card sealed and summarised (see InitiatePayment.sealed),
    every field already well-formed; the business rules are decided on it (initializer.domain.order)."""

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: Money
    buyer: BuyerInfo
    card: CardSummary | None  # None when it pays with a payment method
    expiry_month: int | None
    expiry_year: int | None
    request_fingerprint: str  # keyed digest of the request, to tell a retry from a reused key
    sealed_payment_details: str | None  # card details sealed for the finalizer alone (payments_shared.sealed_cards)
    received_at: datetime  # the order's created_at, and the day its card's expiry is judged on
    payment_method: str | None = None  # the Stripe PaymentMethod to charge instead of a card
    return_url: str | None = None
    capture_method: str = "automatic"  # automatic | manual (Stripe's names)


@dataclass(frozen=True)
class RecordPaymentAction:
    """The buyer must authenticate (the finalizer's PaymentActionRequired event `source_event_id`): show it."""

    payment_order_id: str
    next_action_type: str
    redirect_url: str | None
    client_secret: str | None = field(repr=False)
    source_event_id: str


@dataclass(frozen=True)
class FirstCharge:
    """What the outcome of a payment's first charge says of its order: whose, how much, initiated when. Such an
    outcome most often finds the order as its first event left it, so it is recorded on that presumption
    without reading the order first (initializer.app.record_outcome guards it)."""

    merchant_id: MerchantId
    amount: Money
    initiated_at: datetime


@dataclass(frozen=True)
class RecordPaymentOutcome:
    """The finalizer decided the payment (its PaymentStatusUpdated event `source_event_id`): record it."""

    payment_order_id: str
    status: str  # SUCCESS | FAILED | AUTHORIZED | CANCELED
    error_message: str | None
    source_event_id: str
    # The event's amount: for a manual capture, AUTHORIZED's hold or SUCCESS's captured amount.
    amount_minor: int | None = None
    first_charge: FirstCharge | None = None  # with the outcome of the first charge (the common case)


@dataclass(frozen=True)
class RequestRefund:
    """The merchant asks to refund `amount` of a payment (None: whatever is left), under an Idempotency-Key that
    names the refund `refund_id`; `request_fingerprint` tells a retry from a reused key."""

    payment_order_id: str
    refund_id: str
    amount: Money | None
    reason: str | None
    request_fingerprint: str
    requested_at: datetime
    caller_merchant_id: str | None  # the merchant asking; None for an operator (who may refund any payment)

    @staticmethod
    def fingerprint(amount: str | None, currency: str | None, reason: str | None) -> str:
        canonical = {"amount": amount, "currency": currency, "reason": reason}
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RecordRefundOutcome:
    """The finalizer's answer to a refund (its RefundStatusUpdated event `source_event_id`): record it."""

    payment_order_id: str
    refund_id: str
    status: str  # SUCCEEDED | FAILED | REVERSED
    failure_reason: str | None
    source_event_id: str


@dataclass(frozen=True)
class RecordDisputeStatus:
    """The finalizer's DisputeStatusUpdated (event `source_event_id`): record the dispute's status on the order."""

    payment_order_id: str
    dispute_id: str
    amount: Money
    fee: Money
    status: str  # OPENED | WON | LOST
    reason: str | None
    source_event_id: str


@dataclass(frozen=True)
class RequestCapture:
    """The merchant asks to capture `amount` of an AUTHORIZED payment (None: all that was authorized; the rest
    is released), under an Idempotency-Key; `request_fingerprint` tells a retry from a reused key."""

    payment_order_id: str
    amount: Money | None
    idempotency_key: str
    request_fingerprint: str
    requested_at: datetime
    caller_merchant_id: str | None  # the merchant asking; None for an operator (who may act for any payment)

    @staticmethod
    def fingerprint(amount: str | None, currency: str | None) -> str:
        canonical = {"amount": amount, "currency": currency}
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RequestCancel:
    """The merchant asks to cancel an AUTHORIZED payment (the hold is released), under an Idempotency-Key."""

    payment_order_id: str
    cancellation_reason: str | None  # Stripe's: duplicate | fraudulent | requested_by_customer | abandoned
    idempotency_key: str
    request_fingerprint: str
    requested_at: datetime
    caller_merchant_id: str | None

    @staticmethod
    def fingerprint(cancellation_reason: str | None) -> str:
        canonical = {"cancellation_reason": cancellation_reason}
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
