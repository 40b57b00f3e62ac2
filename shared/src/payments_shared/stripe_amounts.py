"""Stripe's amount rules: how our Money (ISO 4217 minor units) is written as Stripe's `amount`, and which
amounts Stripe refuses. From docs.stripe.com/currencies (zero-decimal, three-decimal, special cases, minimum
and maximum charge amounts) and Stripe's ISK notice (support.stripe.com, "deprecation of fractional ISK").

The initializer answers 400 for an amount Stripe would refuse (so no such order ever reaches the PSP) and the
finalizer's Stripe adapter writes every amount through `stripe_amount`.
"""

from __future__ import annotations

from typing import Final

from payments_shared.money import CURRENCY_EXPONENTS, Money, MoneyError

# Stripe's `amount` has this many decimals per currency: 0 for its zero-decimal list, 3 for the
# three-decimal ones, 2 for every other. ISK is 0 in ISO 4217 but stays two-decimal in Stripe's API (100 =
# 1 krona) with whole krónur only, which our ISO minor units already are.
ZERO_DECIMAL: Final = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL: Final = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# Ours that Stripe does not present at all (not in its presentment list).
NOT_PRESENTED: Final = frozenset({"CLF", "IQD", "LYD", "UYI", "UYW"})
CURRENCIES: Final = frozenset(CURRENCY_EXPONENTS) - NOT_PRESENTED

# Stripe's minimum charge per currency, in Stripe's `amount` units. Other currencies must convert to at
# least the settlement currency's minimum at the day's rate: Stripe alone can judge those (amount_too_small).
MINIMUM_CHARGE: Final[dict[str, int]] = {
    "USD": 50,
    "AED": 200,
    "AUD": 50,
    "BGN": 100,
    "BRL": 50,
    "CAD": 50,
    "CHF": 50,
    "CZK": 1500,
    "DKK": 250,
    "EUR": 50,
    "GBP": 30,
    "HKD": 400,
    "HUF": 17500,
    "INR": 50,
    "JPY": 50,
    "MXN": 1000,
    "MYR": 200,
    "NOK": 300,
    "NZD": 50,
    "PLN": 200,
    "RON": 200,
    "SEK": 300,
    "SGD": 50,
    "THB": 1000,
}
MAXIMUM_AMOUNT: Final = 99_999_999  # eight digits, e.g. 999,999.99 USD


class UnchargeableAmount(MoneyError):
    """An amount Stripe would refuse: the reason is fit for a 400's field problem or a payment's failure;
    `code` is Stripe's error code for it (ours, `currency_not_supported`, for a currency it never takes)."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.code = code


def decimals(currency: str) -> int:
    if currency not in CURRENCIES:
        raise UnchargeableAmount(f"Stripe does not take payments in {currency}", "currency_not_supported")
    return 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2


def api_units(money: Money) -> int:
    """`money` in Stripe's API units for its currency (its decimals, not always ISO's); UnchargeableAmount when
    Stripe cannot write it at all. Every amount sent to Stripe goes through this; charges add their limits."""
    shift = decimals(money.currency) - CURRENCY_EXPONENTS[money.currency]
    amount = money.minor * 10**shift  # our table has no currency with fewer Stripe decimals than ISO ones
    if money.currency in THREE_DECIMAL and amount % 10:
        raise UnchargeableAmount(
            f"{money.currency} amounts must be whole multiples of 0.010 at Stripe", "invalid_charge_amount"
        )
    return amount


def from_api_units(amount: int, currency: str) -> Money:
    """An amount Stripe answered with (e.g. a PaymentIntent's amount_received) as our Money: api_units reversed."""
    currency = currency.upper()
    shift = decimals(currency) - CURRENCY_EXPONENTS[currency]
    return Money(amount // 10**shift, currency)


def stripe_amount(money: Money) -> int:
    """Stripe's `amount` for a positive charge; UnchargeableAmount when Stripe would refuse it."""
    amount = api_units(money)
    shift = decimals(money.currency) - CURRENCY_EXPONENTS[money.currency]
    minimum = MINIMUM_CHARGE.get(money.currency, 1)
    if amount < minimum:
        floor = Money(minimum // 10**shift, money.currency)
        raise UnchargeableAmount(
            f"Stripe's minimum charge in {money.currency} is {floor.to_decimal_string()}", "amount_too_small"
        )
    if amount > MAXIMUM_AMOUNT:
        ceiling = Money(MAXIMUM_AMOUNT // 10**shift, money.currency)
        raise UnchargeableAmount(
            f"Stripe's maximum charge in {money.currency} is {ceiling.to_decimal_string()}", "amount_too_large"
        )
    return amount
