"""HTTP request and response models (pydantic): validation here answers 400 with every bad field named. Not the
stored events' schema versions: those are initializer.domain.event_types.EVENT_SCHEMAS."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from initializer.domain.card import is_card_number
from initializer.domain.order import OrderStatus
from payments_shared import stripe_amounts
from payments_shared.contracts import CancellationReason, CaptureMethod, RefundReason
from payments_shared.ids import MerchantId
from payments_shared.money import CURRENCY_EXPONENTS, Money, MoneyError

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class BuyerInfoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    email: EmailStr
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


class PaymentDetailsIn(BaseModel):
    """Card data: validated, encrypted, never logged, never returned. The CVV is never stored."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    card_number: Annotated[str, Field(pattern=r"^[0-9]{12,19}$", description="digits only")]
    expiry_month: Annotated[int, Field(ge=1, le=12)]
    expiry_year: Annotated[int, Field(ge=2000, le=2099)]
    cvv: Annotated[str, Field(pattern=r"^[0-9]{3,4}$")]
    holder_name: Text

    @field_validator("card_number")
    @classmethod
    def _luhn(cls, value: str) -> str:
        if not is_card_number(value):
            raise ValueError("not a valid card number (Luhn check failed)")
        return value

    def __repr__(self) -> str:  # keep card data out of tracebacks and debug output
        return "PaymentDetailsIn(<redacted>)"

    __str__ = __repr__


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    merchant_id: Annotated[MerchantId, Field(description="1-64 letters, digits, '_' or '-'")]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
    amount: Annotated[
        str,
        Field(
            description='decimal string in major units, e.g. "12.34"; a positive amount must be one Stripe charges '
            "(its minimum and maximum charge per currency, three-decimal amounts ending in 0), else 400",
            examples=["12.34"],
        ),
    ]
    buyer_info: BuyerInfoIn
    # Exactly one: a Stripe PaymentMethod the buyer's browser made (Stripe.js / Elements), or the card itself
    # where the deployment's Stripe account has raw card data access (RAW_CARD_DATA=on; else a 400).
    payment_method: Annotated[
        str | None,
        Field(
            default=None,
            pattern=r"^pm_[A-Za-z0-9_]{1,250}$",
            description="a Stripe PaymentMethod id (pm_…), e.g. pm_card_visa in test mode",
        ),
    ]
    payment_details: PaymentDetailsIn | None = None
    return_url: Annotated[
        str | None,
        Field(
            default=None,
            pattern=r"^https://[^\s]+$",
            max_length=2048,
            description="the merchant's https page the buyer comes back to after 3-D Secure, when the card asks "
            "for it (the payment is then REQUIRES_ACTION with next_action.redirect_url)",
        ),
    ]

    capture_method: Annotated[
        CaptureMethod,
        Field(
            default="automatic",
            description="Stripe's capture method: automatic charges at once; manual only authorizes (the payment "
            "is then AUTHORIZED) until POST /payments/{payment_order_id}/capture or /cancel, or until the card "
            "network's window (7 days for cards) passes and the system cancels it",
        ),
    ]

    @model_validator(mode="after")
    def _one_way_to_pay(self) -> PaymentRequest:
        if (self.payment_method is None) == (self.payment_details is None):
            raise PydanticCustomError("one_way_to_pay", "send exactly one of payment_method and payment_details")
        return self

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            raise ValueError("unknown ISO 4217 currency code")
        if value not in stripe_amounts.CURRENCIES:  # the PSP would refuse every order in it
            raise ValueError(f"Stripe does not take payments in {value}")
        return value

    @field_validator("amount")
    @classmethod
    def _exact_amount(cls, value: str, info: ValidationInfo) -> str:
        # Zero and negative amounts are well-formed: the business rules refuse them (order FAILED).
        # Without a valid currency the precision can't be judged; "USD" stands in to check the notation.
        currency = info.data.get("currency")
        try:
            money = Money.parse(value, currency or "USD", allow_negative=True)
            if currency is not None and money.is_positive():
                stripe_amounts.stripe_amount(money)  # refused now, not parked in a DLQ after Stripe refuses it
        except MoneyError as error:
            if currency is None and "decimal places" in str(error):
                return value
            raise ValueError(str(error)) from None
        return value

    def money(self) -> Money:
        return Money.parse(self.amount, self.currency, allow_negative=True)


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: Annotated[
        str | None, Field(default=None, pattern=r"^[A-Z]{3}$", description="the payment's currency, with `amount`")
    ]
    amount: Annotated[
        str | None,
        Field(
            default=None,
            description='decimal string in major units, e.g. "20.00", with `currency`; omitted: whatever is left '
            "to refund (refunds taken or in flight deducted)",
            examples=["20.00"],
        ),
    ]
    reason: Annotated[
        RefundReason | None, Field(default=None, description="Stripe's refund reason, passed on to the PSP")
    ]

    @field_validator("currency")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in CURRENCY_EXPONENTS:
            raise ValueError("unknown ISO 4217 currency code")
        return value

    @field_validator("amount")
    @classmethod
    def _positive_amount(cls, value: str | None, info: ValidationInfo) -> str | None:
        currency = info.data.get("currency")
        if value is None or currency not in CURRENCY_EXPONENTS:
            return value  # no currency to judge it by: the model's check below names what is missing
        try:
            money = Money.parse(value, currency)
        except MoneyError as error:
            raise ValueError(str(error)) from None
        if not money.is_positive():
            raise ValueError("a refund's amount must be greater than zero")
        return value

    @model_validator(mode="after")
    def _amount_with_currency(self) -> RefundRequest:
        if (self.amount is None) != (self.currency is None):
            raise PydanticCustomError("amount_with_currency", "send amount and currency together, or neither")
        return self

    def money(self) -> Money | None:
        return None if self.amount is None or self.currency is None else Money.parse(self.amount, self.currency)


class CaptureRequest(BaseModel):
    """Amount as a refund takes it: a decimal string with its currency, or neither (all that was authorized)."""

    model_config = ConfigDict(extra="forbid")

    currency: Annotated[
        str | None, Field(default=None, pattern=r"^[A-Z]{3}$", description="the payment's currency, with `amount`")
    ]
    amount: Annotated[
        str | None,
        Field(
            default=None,
            description='decimal string in major units, e.g. "20.00", with `currency`: at most the authorized '
            "amount (the rest is released); omitted: all that was authorized",
            examples=["20.00"],
        ),
    ]

    @field_validator("currency")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in CURRENCY_EXPONENTS:
            raise ValueError("unknown ISO 4217 currency code")
        return value

    @field_validator("amount")
    @classmethod
    def _exact_amount(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Zero and negative amounts are well-formed: the order refuses them naming the authorized amount (422).
        currency = info.data.get("currency")
        if value is None or currency not in CURRENCY_EXPONENTS:
            return value  # no currency to judge it by: the model's check below names what is missing
        try:
            Money.parse(value, currency, allow_negative=True)
        except MoneyError as error:
            raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _amount_with_currency(self) -> CaptureRequest:
        if (self.amount is None) != (self.currency is None):
            raise PydanticCustomError("amount_with_currency", "send amount and currency together, or neither")
        return self

    def money(self) -> Money | None:
        if self.amount is None or self.currency is None:
            return None
        return Money.parse(self.amount, self.currency, allow_negative=True)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cancellation_reason: Annotated[
        CancellationReason | None,
        Field(default=None, description="Stripe's cancellation reason, passed on to the PSP"),
    ]


class RefundOut(BaseModel):
    refund_id: str
    amount: str
    currency: str
    reason: str | None = None
    status: str  # PENDING | SUCCEEDED | FAILED | REVERSED
    requested_at: str
    failure_reason: str | None = None


class DisputeOut(BaseModel):
    """A cardholder's bank disputing the payment: the disputed amount and the PSP's fee (never returned)."""

    dispute_id: str
    amount: str
    currency: str
    fee: str
    status: str  # OPENED | WON | LOST
    reason: str | None = None  # Stripe's dispute reason


class CardOut(BaseModel):
    brand: str
    last4: str


class NextActionOut(BaseModel):
    """What the buyer's page does to authenticate: open `redirect_url` (Stripe's 3-D Secure page, which sends
    the buyer back to the order's return_url), or pass `client_secret` to Stripe.js `handleNextAction`."""

    type: str
    redirect_url: str | None = None
    client_secret: str | None = None


class PaymentOut(BaseModel):
    payment_order_id: str
    merchant_id: str
    status: OrderStatus
    amount: str
    currency: str
    created_at: str
    failure_reason: str | None = None
    card: CardOut | None = None  # a card payment's brand and last 4
    payment_method: str | None = None  # or the payment method it pays with
    next_action: NextActionOut | None = None  # while REQUIRES_ACTION
    amount_refunded: str | None = None  # what refunds took back (SUCCEEDED ones)
    capture_method: str = "automatic"
    amount_authorized: str | None = None  # manual capture: what the card holds (once AUTHORIZED)
    amount_captured: str | None = None  # manual capture: what was captured (once SUCCESS)
    refunds: list[RefundOut] = []
    disputes: list[DisputeOut] = []  # while one is OPENED the status shows DISPUTED
