"""Card checks done before anything is stored: Luhn, brand, expiry. The card never leaves in clear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from payments_shared.cards import luhn_valid

# Issuer identification prefixes for the brands we name in events (enough for routing and display).
_BRANDS: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("amex", ("34", "37"), (15,)),
    ("visa", ("4",), (13, 16, 19)),
    ("mastercard", tuple(str(p) for p in [*range(51, 56), *range(2221, 2721)]), (16,)),
    ("discover", ("6011", "65"), (16, 19)),
)


def card_brand(pan: str) -> str:
    for brand, prefixes, lengths in _BRANDS:
        if len(pan) in lengths and pan.startswith(prefixes):
            return brand
    return "unknown"


def is_card_number(pan: str) -> bool:
    return pan.isascii() and pan.isdigit() and 12 <= len(pan) <= 19 and luhn_valid(pan)


def expires_before(expiry_month: int, expiry_year: int, today: date) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (expiry_year, expiry_month) < (today.year, today.month)


@dataclass(frozen=True)
class CardSummary:
    """What may travel in events and answers: never the number, never the CVV."""

    brand: str
    last4: str
    fingerprint: str
