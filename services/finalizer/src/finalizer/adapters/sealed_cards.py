"""Opens the card details the initializer sealed for an order (payments_shared.sealed_cards)."""

from __future__ import annotations

from collections.abc import Callable

from finalizer.domain.payment import CardDetails
from payments_shared.sealed_cards import CardCipher


class SealedCardOpener:
    """`cipher` gives the cipher when the first card is opened: its KMS client is built then, not at the cold start
    of a consumer whose payments come as Stripe PaymentMethods (the main path), which never opens one."""

    def __init__(self, cipher: Callable[[], CardCipher]) -> None:
        self._cipher = cipher

    def open(self, sealed: str, payment_order_id: str) -> CardDetails:
        details = self._cipher().open(sealed, payment_order_id)
        return CardDetails(
            str(details["card_number"]),
            int(details["expiry_month"]),
            int(details["expiry_year"]),
            details.get("holder_name"),
        )
