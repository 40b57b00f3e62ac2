"""Integration-event payloads shared between services (the envelope's `data`), validated on receipt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from payments_shared.events import EventEnvelope
from payments_shared.ids import MerchantId, PaymentOrderId, PayoutId, RefundId
from payments_shared.money import Money

PAYMENT_INITIATED = "PaymentInitiated"
PAYMENT_STATUS_UPDATED = "PaymentStatusUpdated"
PAYMENT_ACTION_REQUIRED = "PaymentActionRequired"
REFUND_REQUESTED = "RefundRequested"
REFUND_STATUS_UPDATED = "RefundStatusUpdated"
CAPTURE_REQUESTED = "CaptureRequested"
CANCEL_REQUESTED = "CancelRequested"
DISPUTE_STATUS_UPDATED = "DisputeStatusUpdated"
PAYOUT_PAID = "PayoutPaid"
PSP_PAYOUT_UPDATED = "PspPayoutUpdated"

# Stripe's refund reasons (https://docs.stripe.com/api/refunds/create#create_refund-reason).
RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]
# Stripe's capture methods (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-capture_method):
# `manual` places a hold on the card, captured (or canceled) later.
CaptureMethod = Literal["automatic", "manual"]
# Stripe's reasons to cancel a PaymentIntent (https://docs.stripe.com/api/payment_intents/cancel); `abandoned`
# is also the one the system gives when an authorization outlives the card network's window.
CancellationReason = Literal["duplicate", "fraudulent", "requested_by_customer", "abandoned"]

# Each contract's validator is built when that contract first validates, not at import: a function handles a
# few of these event types, and building all of them was a measurable part of every cold start. pydantic
# rebuilds a deferred model under a lock (pydantic#13438, in the lockfile's 2.14), so concurrent first uses
# (the finalizer's batch workers) are safe: test_contract_models_lazy.py checks both.
CONTRACT_CONFIG = ConfigDict(frozen=True, defer_build=True)


class CardRef(BaseModel):
    model_config = CONTRACT_CONFIG

    brand: str
    last4: str = Field(pattern=r"^[0-9]{4}$")
    fingerprint: str = Field(min_length=1)


class PaymentInitiatedData(BaseModel):
    """Published by the initializer; consumed by the finalizer."""

    model_config = CONTRACT_CONFIG

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: str
    amount_minor: int
    currency: str
    # What to charge: exactly one of a card, sealed for this order (opened only to charge, and only where the
    # Stripe account has raw card data access), or a PaymentMethod Stripe holds (no card data with us).
    card: CardRef | None = None  # the sealed card's summary
    payment_details: str | None = Field(default=None, min_length=1, repr=False)
    payment_method: str | None = Field(default=None, pattern=r"^pm_[A-Za-z0-9_]{1,250}$")
    # Where the PSP's 3-D Secure page sends the buyer back to (the merchant's page), when the card asks for it.
    return_url: str | None = Field(default=None, pattern=r"^https://", max_length=2048)
    # manual: authorize only (Stripe's requires_capture); the merchant captures or cancels later. Optional:
    # events published before manual capture existed are automatic.
    capture_method: CaptureMethod = "automatic"

    @model_validator(mode="after")
    def _one_way_to_pay(self) -> PaymentInitiatedData:
        if (self.payment_details is None) == (self.payment_method is None):
            raise ValueError("exactly one of payment_details and payment_method")
        if (self.card is None) != (self.payment_details is None):
            raise ValueError("card summarises payment_details: both or neither")
        return self

    def money(self) -> Money:
        money = Money(self.amount_minor, self.currency)
        if money.to_decimal_string() != self.amount or not money.is_positive():
            raise ValueError(f"inconsistent amount {self.amount!r} / {self.amount_minor} {self.currency}")
        return money


class PaymentStatusUpdatedData(BaseModel):
    """Published by the finalizer; consumed by the initializer, the ledger and the wallet. SUCCESS: charged
    (amount_minor is what was captured: after a manual capture, possibly less than authorized, which
    amount_authorized_minor then gives). FAILED: not charged. AUTHORIZED: a manual-capture payment's hold
    (Stripe's requires_capture; amount_minor is the authorized amount), not final. CANCELED: an authorization
    released (by the merchant, or by the system when it outlived the capture window). Only SUCCESS books.
    psp_fee_minor: with SUCCESS, what the PSP kept from the charge (Stripe's balance transaction `fee`), in the
    payment's currency; absent when it is not known yet or was settled in another currency."""

    model_config = CONTRACT_CONFIG

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: str
    amount_minor: int = Field(ge=0)
    currency: str
    status: Literal["SUCCESS", "FAILED", "AUTHORIZED", "CANCELED"]
    error_message: str | None = None
    decline_code: str | None = None  # the PSP's decline code of a FAILED charge (e.g. insufficient_funds)
    amount_authorized_minor: int | None = Field(default=None, ge=0)  # a manual capture's hold; None: automatic
    # Optional, so events published before it stay valid (as amount_authorized_minor was added): the PSP's
    # processing fee on this charge, in `currency`'s minor units; None: unknown (the ledger books no fee).
    psp_fee_minor: int | None = Field(default=None, ge=0)
    # Optional too: with the outcome of a payment's first charge, when it was initiated (its PaymentInitiated's
    # occurred_at). The initializer then records the outcome without reading the order first (and measures the
    # time to a final status from it); absent (a 3-D Secure or capture outcome, older events), it reads first.
    initiated_at: AwareDatetime | None = None

    def money(self) -> Money:
        """The amount, refusing an event whose decimal and minor-unit forms disagree."""
        money = Money(self.amount_minor, self.currency)
        if money.to_decimal_string() != self.amount:
            raise ValueError(f"inconsistent amount {self.amount!r} vs {self.amount_minor} {self.currency}")
        return money

    def psp_fee(self) -> Money | None:
        """The PSP's processing fee on a SUCCESS, when known and more than nothing."""
        if self.status != "SUCCESS" or not self.psp_fee_minor:
            return None
        return Money(self.psp_fee_minor, self.currency)


class PaymentActionRequiredData(BaseModel):
    """Published by the finalizer when the buyer must authenticate (3-D Secure); consumed by the initializer,
    which shows it at GET /payments/{id}. Not final: a PaymentStatusUpdated follows."""

    model_config = CONTRACT_CONFIG

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    status: Literal["REQUIRES_ACTION"]
    psp_reference: str = Field(min_length=1)
    next_action_type: Literal["redirect_to_url", "use_stripe_sdk"]
    redirect_url: str | None = None  # Stripe's authentication page, for redirect_to_url
    client_secret: str | None = Field(default=None, repr=False)  # for Stripe.js (handleNextAction)


class _RefundAmount(BaseModel):
    model_config = CONTRACT_CONFIG

    refund_id: RefundId
    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: str
    amount_minor: int = Field(gt=0)
    currency: str

    def money(self) -> Money:
        """The amount refunded, refusing an event whose decimal and minor-unit forms disagree."""
        money = Money(self.amount_minor, self.currency)
        if money.to_decimal_string() != self.amount:
            raise ValueError(f"inconsistent amount {self.amount!r} vs {self.amount_minor} {self.currency}")
        return money


class RefundRequestedData(_RefundAmount):
    """Published by the initializer when a merchant's refund fits what is left of the captured amount; consumed
    by the finalizer, which asks the PSP to refund (the refund id is the PSP's idempotency key)."""

    reason: RefundReason | None = None


class RefundStatusUpdatedData(_RefundAmount):
    """Published by the finalizer with the PSP's answer to a refund; consumed by the initializer, the ledger
    and the wallet. SUCCEEDED: the PSP took it (Stripe `pending` or `succeeded`: the money has left the
    merchant's balance). FAILED: refused when asked, nothing moved. REVERSED: taken, then failed at the card
    network (Stripe's `refund.failed`): the money comes back. A refund is SUCCEEDED at most once and REVERSED
    at most once, only after SUCCEEDED."""

    status: Literal["SUCCEEDED", "FAILED", "REVERSED"]
    psp_reference: str | None = None  # Stripe's re_…
    failure_reason: str | None = None  # Stripe's failure_reason of a FAILED or REVERSED refund


class CaptureRequestedData(BaseModel):
    """Published by the initializer when a merchant captures an AUTHORIZED payment (all of it or less: the
    rest is released); consumed by the finalizer, which captures at the PSP and answers with SUCCESS carrying
    the captured amount. At most one per payment."""

    model_config = CONTRACT_CONFIG

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    currency: str
    amount_minor: int = Field(gt=0)  # to capture: 0 < amount_minor <= the authorized amount
    idempotency_key: str = Field(min_length=1)

    def money(self) -> Money:
        return Money(self.amount_minor, self.currency)


class CancelRequestedData(BaseModel):
    """Published by the initializer when a merchant cancels an AUTHORIZED payment (the hold is released);
    consumed by the finalizer, which cancels at the PSP and answers with CANCELED. At most one per payment."""

    model_config = CONTRACT_CONFIG

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    cancellation_reason: CancellationReason | None = None


class DisputeStatusUpdatedData(BaseModel):
    """Published by the finalizer when a cardholder's bank disputes a payment and when the dispute closes;
    consumed by the initializer, the ledger and the wallet. OPENED: the PSP took the amount and its dispute fee
    from our balance (Stripe's charge.dispute.created); the merchant bears both. WON: the bank found for the
    merchant and the PSP gave the amount back — not the dispute fee, which Stripe never returns. LOST: nothing
    more moves. A dispute is OPENED once, then WON or LOST once."""

    model_config = CONTRACT_CONFIG

    dispute_id: str = Field(pattern=r"^dp_[A-Za-z0-9]{1,64}$")  # Stripe's dispute id
    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    currency: str
    amount_minor: int = Field(gt=0)  # the disputed amount
    fee_minor: int = Field(ge=0)  # the PSP's dispute fee, withdrawn at OPENED and never returned
    status: Literal["OPENED", "WON", "LOST"]
    reason: str | None = None  # Stripe's dispute reason (fraudulent, product_not_received, ...)

    def money(self) -> Money:
        return Money(self.amount_minor, self.currency)

    def fee(self) -> Money:
        return Money(self.fee_minor, self.currency)


class PayoutPaidData(BaseModel):
    """Published by the wallet when a payout left a merchant's available balance (POST /payouts); consumed by
    the ledger, which books it once per payout id (merchant_payable to payouts_clearing)."""

    model_config = CONTRACT_CONFIG

    payout_id: PayoutId
    merchant_id: MerchantId
    amount_minor: int = Field(gt=0)
    currency: str
    created: str

    def money(self) -> Money:
        return Money(self.amount_minor, self.currency)


class PspPayoutUpdatedData(BaseModel):
    """Published by the finalizer when the PSP says a payout of its balance to our bank was paid or failed
    (Stripe's payout.paid, payout.failed, the Payout re-read); consumed by the ledger. PAID: the money left the PSP's
    balance for our bank (bank DEBIT, psp_clearing CREDIT); FAILED: the bank returned it and the PSP put it back on
    the balance (the reverse). A payout is PAID once, then perhaps FAILED once ("some payouts that fail might
    initially show as paid"); one seen failed first is published PAID, then FAILED: its money left and came back."""

    model_config = CONTRACT_CONFIG

    payout_id: str = Field(pattern=r"^po_[A-Za-z0-9]{1,64}$")  # Stripe's payout id
    currency: str
    amount_minor: int = Field(gt=0)
    status: Literal["PAID", "FAILED"]
    failure_code: str | None = None  # Stripe's, for a FAILED payout

    def money(self) -> Money:
        return Money(self.amount_minor, self.currency)


CONTRACTS: dict[str, type[BaseModel]] = {
    PAYMENT_INITIATED: PaymentInitiatedData,
    PAYMENT_STATUS_UPDATED: PaymentStatusUpdatedData,
    PAYMENT_ACTION_REQUIRED: PaymentActionRequiredData,
    REFUND_REQUESTED: RefundRequestedData,
    REFUND_STATUS_UPDATED: RefundStatusUpdatedData,
    CAPTURE_REQUESTED: CaptureRequestedData,
    CANCEL_REQUESTED: CancelRequestedData,
    DISPUTE_STATUS_UPDATED: DisputeStatusUpdatedData,
    PAYOUT_PAID: PayoutPaidData,
    PSP_PAYOUT_UPDATED: PspPayoutUpdatedData,
}


def public_data(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a stored event's data its integration contract publishes: fields private to the producing
    service (the buyer's name and e-mail, the request fingerprint) never leave it."""
    contract = CONTRACTS.get(event_type)
    if contract is None:
        return dict(data)
    return {name: data[name] for name in contract.model_fields if name in data}


def contract_violations(refused: ValidationError) -> list[str]:
    """Where an event breaks its contract, as `field: reason` (never the value: it may be card data)."""
    return [f"{'.'.join(str(part) for part in error['loc']) or 'detail'}: {error['msg']}" for error in refused.errors()]


def check_contract(envelope: EventEnvelope) -> None:
    """Raise ValidationError when the envelope's data breaks its event type's contract (if it has one)."""
    contract = CONTRACTS.get(envelope.event_type)
    if contract is not None:
        contract.model_validate(envelope.data)


def violations(detail: Mapping[str, Any]) -> list[str]:
    """Why an EventBridge `detail` breaks the envelope or its event type's contract; empty when it keeps them."""
    try:
        check_contract(EventEnvelope.model_validate(detail))
    except ValidationError as refused:
        return contract_violations(refused)
    return []
