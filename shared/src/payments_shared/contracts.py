"""Integration-event payloads shared between services (the envelope's `data`), validated on receipt."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money

PAYMENT_STATUS_UPDATED = "PaymentStatusUpdated"


class PaymentStatusUpdatedData(BaseModel):
    """Published by the finalizer; consumed by the initializer, the ledger and the wallet."""

    model_config = ConfigDict(frozen=True)

    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: str
    amount_minor: int = Field(ge=0)
    currency: str
    status: Literal["SUCCESS", "FAILED"]
    error_message: str | None = None
    decline_code: str | None = None  # the PSP's decline code of a FAILED charge (e.g. insufficient_funds)

    def money(self) -> Money:
        """The amount, refusing an event whose decimal and minor-unit forms disagree."""
        money = Money(self.amount_minor, self.currency)
        if money.to_decimal_string() != self.amount:
            raise ValueError(f"inconsistent amount {self.amount!r} vs {self.amount_minor} {self.currency}")
        return money
