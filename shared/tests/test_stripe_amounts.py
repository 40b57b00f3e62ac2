"""Stripe's amount rules: the documented examples, and properties over every currency Stripe takes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments_shared.money import CURRENCY_EXPONENTS, Money
from payments_shared.stripe_amounts import (
    CURRENCIES,
    MAXIMUM_AMOUNT,
    MINIMUM_CHARGE,
    THREE_DECIMAL,
    ZERO_DECIMAL,
    UnchargeableAmount,
    decimals,
    stripe_amount,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("10.00", "USD", 1000),  # two-decimal: cents
        ("500", "JPY", 500),  # zero-decimal: as is
        ("500", "ISK", 50000),  # whole krónur, two-decimal in Stripe's API
        ("5.120", "KWD", 5120),  # three-decimal ending in 0
        ("0.50", "EUR", 50),  # exactly the minimum
        ("0.30", "GBP", 30),
        ("999999.99", "USD", MAXIMUM_AMOUNT),
    ],
)
def test_documented_amounts(amount: str, currency: str, expected: int) -> None:
    assert stripe_amount(Money.parse(amount, currency)) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        ("0.10", "EUR", "minimum charge in EUR is 0.50"),
        ("0.49", "USD", "minimum charge in USD is 0.50"),
        ("174.99", "HUF", "minimum charge in HUF is 175.00"),
        ("49", "JPY", "minimum charge in JPY is 50"),
        ("5.124", "KWD", "multiples of 0.010"),
        ("1000000.00", "USD", "maximum charge in USD is 999999.99"),
        ("10", "UYI", "does not take payments in UYI"),
    ],
)
def test_amounts_stripe_refuses(amount: str, currency: str, reason: str) -> None:
    with pytest.raises(UnchargeableAmount, match=reason):
        stripe_amount(Money.parse(amount, currency))


def test_every_currency_has_one_stripe_precision_never_finer_than_iso() -> None:
    assert ZERO_DECIMAL & THREE_DECIMAL == set()
    for currency in CURRENCIES:
        # Stripe writing fewer decimals than ISO would make some of our amounts unwritable.
        assert decimals(currency) >= CURRENCY_EXPONENTS[currency], currency
    assert {c for c in CURRENCIES if decimals(c) != CURRENCY_EXPONENTS[c]} == {"ISK"}


accepted = st.sampled_from(sorted(CURRENCIES)).flatmap(
    lambda currency: st.builds(Money, st.integers(min_value=1, max_value=10**9), st.just(currency))
)


@given(accepted)
def test_a_charged_amount_is_the_same_value_and_within_stripes_bounds(money: Money) -> None:
    try:
        amount = stripe_amount(money)
    except UnchargeableAmount:
        return
    # Same value: Stripe's amount read with Stripe's decimals is our amount read with ISO's.
    assert Decimal(amount).scaleb(-decimals(money.currency)) == Decimal(money.to_decimal_string())
    assert MINIMUM_CHARGE.get(money.currency, 1) <= amount <= MAXIMUM_AMOUNT
    if money.currency in THREE_DECIMAL:
        assert amount % 10 == 0


@given(accepted)
def test_an_amount_is_refused_only_for_a_documented_rule(money: Money) -> None:
    try:
        stripe_amount(money)
    except UnchargeableAmount:
        amount = money.minor * 10 ** (decimals(money.currency) - CURRENCY_EXPONENTS[money.currency])
        below = amount < MINIMUM_CHARGE.get(money.currency, 1)
        assert below or amount > MAXIMUM_AMOUNT or (money.currency in THREE_DECIMAL and amount % 10)
