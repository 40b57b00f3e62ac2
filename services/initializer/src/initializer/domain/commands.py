"""What a client asks the initializer to do, as plain values (the HTTP model stays at the edge, initializer.api)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from initializer.domain.order import BuyerInfo
from payments_shared.ids import MerchantId
from payments_shared.money import Money


@dataclass(frozen=True)
class CardEntry:
    """The card as the buyer entered it, in memory only while the order is placed. The CVV was checked at the
    edge and is not here: it is never stored, sealed or sent on (PCI DSS 3.3.2)."""

    number: str = field(repr=False)
    expiry_month: int
    expiry_year: int
    holder_name: str = field(repr=False)


@dataclass(frozen=True)
class PlaceOrder:
    merchant_id: MerchantId
    amount: Money  # zero or negative is well-formed: the business rules refuse it (the order is FAILED)
    buyer: BuyerInfo
    card: CardEntry
    idempotency_key: str | None = None

    def fingerprint(self, card_fingerprint: str) -> str:
        """A digest of the request that tells a retry from a reused key. The card enters only through its keyed
        fingerprint, so the digest reveals nothing about it."""
        canonical = {
            "merchant_id": str(self.merchant_id),
            "currency": self.amount.currency,
            "amount": self.amount.to_decimal_string(),
            "buyer_info": {"name": self.buyer.name, "email": self.buyer.email, "country": self.buyer.country},
            "payment_details": [card_fingerprint, self.card.expiry_month, self.card.expiry_year, self.card.holder_name],
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
