"""Money as integer minor units of an ISO 4217 currency. No float ever touches an amount."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# ISO 4217 minor-unit exponents for the currencies we accept. Kept explicit (not "2 unless listed")
# so an unknown code is refused instead of silently priced in cents.
CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    # 0 decimals
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # 3 decimals
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # 4 decimals
    "CLF": 4,
    "UYW": 4,
    # 2 decimals
    "AED": 2,
    "AUD": 2,
    "BGN": 2,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "ILS": 2,
    "INR": 2,
    "MXN": 2,
    "NOK": 2,
    "NZD": 2,
    "PLN": 2,
    "RON": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TRY": 2,
    "UAH": 2,
    "USD": 2,
    "ZAR": 2,
}

# Plain decimal notation only: no sign other than a leading "-", no exponent, no "NaN"/"Infinity",
# no leading "+", no thousands separators, no bare "." forms.
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")  # ASCII digits only: "١٢" is not an amount


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


class UnknownCurrency(MoneyError):
    pass


class InvalidAmount(MoneyError):
    pass


class CurrencyMismatch(MoneyError):
    pass


def exponent_of(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown or unsupported ISO 4217 currency code: {currency!r}") from None


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; True cents is a bug, not an amount.
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise InvalidAmount(f"minor units must be an int, got {type(self.minor).__name__}")
        exponent_of(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, amount: str, currency: str, *, allow_negative: bool = False) -> Money:
        """Parse a plain decimal string ("12.34") into minor units, refusing anything inexact."""
        exponent = exponent_of(currency)
        if not isinstance(amount, str):
            raise InvalidAmount("amount must be a decimal string")
        match = _DECIMAL.fullmatch(amount)
        if match is None:
            raise InvalidAmount(f"not a plain decimal number: {amount!r}")
        sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
        if len(fraction) > exponent:
            raise InvalidAmount(f"{currency} allows at most {exponent} decimal places, got {len(fraction)}")
        if len(whole) > 18:
            raise InvalidAmount("amount is too large")
        minor = int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
        if sign:
            minor = -minor
        if minor < 0 and not allow_negative:
            raise InvalidAmount("amount must not be negative")
        return cls(minor, currency)

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def to_decimal_string(self) -> str:
        """The canonical string: exactly `exponent` decimals ("12.30", "1000", "1.500")."""
        sign = "-" if self.minor < 0 else ""
        digits = str(abs(self.minor)).rjust(self.exponent + 1, "0")
        if self.exponent == 0:
            return sign + digits
        return f"{sign}{digits[: -self.exponent]}.{digits[-self.exponent :]}"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.minor <= other.minor

    def is_positive(self) -> bool:
        return self.minor > 0

    def is_negative(self) -> bool:
        return self.minor < 0

    def scale(self, numerator: int, denominator: int) -> Money:
        """self * numerator / denominator, rounded half-even (banker's rounding) in integer arithmetic.

        Fees are computed with this, so no rounding drift accumulates in one direction over many payments.
        """
        if denominator <= 0:
            raise ValueError("denominator must be positive")
        quotient, remainder = divmod(self.minor * numerator, denominator)
        twice = 2 * remainder
        if twice > denominator or (twice == denominator and quotient % 2 == 1):
            quotient += 1
        return Money(quotient, self.currency)
