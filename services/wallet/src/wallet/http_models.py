"""The wallet API's bodies: what POST /payouts takes and what it and GET /wallets/{merchant_id} answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from payments_shared.ids import MerchantId
from payments_shared.money import CURRENCY_EXPONENTS, Money, MoneyError


class PayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_id: Annotated[
        MerchantId | None,
        Field(default=None, description="whose available balance: an operator names it; a merchant's own if omitted"),
    ]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="the balance's currency")]
    amount: Annotated[
        str | None,
        Field(
            default=None,
            description='decimal string in major units, e.g. "20.00"; omitted: everything available',
            examples=["20.00"],
        ),
    ]

    @field_validator("currency")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            raise ValueError("unknown ISO 4217 currency code")
        return value

    @field_validator("amount")
    @classmethod
    def _positive_amount(cls, value: str | None, info: ValidationInfo) -> str | None:
        currency = info.data.get("currency")
        if value is None or currency not in CURRENCY_EXPONENTS:
            return value  # the currency's own error names what is wrong
        try:
            money = Money.parse(value, currency)
        except MoneyError as error:
            raise ValueError(str(error)) from None
        if not money.is_positive():
            raise ValueError("a payout's amount must be greater than zero")
        return value

    def money(self) -> Money | None:
        return None if self.amount is None else Money.parse(self.amount, self.currency)


class PayoutOut(BaseModel):
    payout_id: str
    merchant_id: str
    amount: str
    amount_minor: int
    currency: str
    status: str  # PAID: out of the wallet, booked by the ledger as on its way to the merchant's bank
    created: str
