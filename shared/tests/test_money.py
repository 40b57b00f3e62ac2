from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments_shared.money import (
    CURRENCY_EXPONENTS,
    CurrencyMismatch,
    InvalidAmount,
    Money,
    UnknownCurrency,
)

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
minor_units = st.integers(min_value=-(10**15), max_value=10**15)


@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    return Money(draw(minor_units), currency or draw(currencies))


@st.composite
def same_currency_pair(draw: st.DrawFn) -> tuple[Money, Money]:
    currency = draw(currencies)
    return draw(money(currency)), draw(money(currency))


@given(money())
def test_decimal_string_round_trips(amount: Money) -> None:
    assert Money.parse(amount.to_decimal_string(), amount.currency, allow_negative=True) == amount


@given(money())
def test_decimal_string_has_exactly_the_currency_exponent_decimals(amount: Money) -> None:
    text = amount.to_decimal_string()
    exponent = CURRENCY_EXPONENTS[amount.currency]
    if exponent == 0:
        assert "." not in text
    else:
        assert len(text.split(".")[1]) == exponent


@given(same_currency_pair(), st.integers(-(10**12), 10**12))
def test_addition_is_commutative_and_subtraction_inverts_it(pair: tuple[Money, Money], k: int) -> None:
    a, b = pair
    assert a + b == b + a
    assert (a + b) - b == a
    assert a + Money.zero(a.currency) == a
    assert a - a == Money.zero(a.currency)
    assert -a + a == Money.zero(a.currency)


@given(money(), money())
def test_different_currencies_never_combine(a: Money, b: Money) -> None:
    if a.currency == b.currency:
        return
    with pytest.raises(CurrencyMismatch):
        _ = a + b
    with pytest.raises(CurrencyMismatch):
        _ = a - b
    with pytest.raises(CurrencyMismatch):
        _ = a < b


@given(money(), st.integers(0, 10_000), st.integers(1, 10_000))
def test_scale_rounds_half_even_to_the_nearest_minor_unit(amount: Money, num: int, den: int) -> None:
    scaled = amount.scale(num, den)
    exact_times_den = amount.minor * num
    # |scaled - exact| <= 1/2 unit, i.e. |scaled*den - exact*den| <= den/2
    assert abs(scaled.minor * den - exact_times_den) * 2 <= den
    if abs(scaled.minor * den - exact_times_den) * 2 == den:
        assert scaled.minor % 2 == 0


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.34", "USD", 1234), ("0.01", "EUR", 1), ("12", "USD", 1200), ("12.3", "USD", 1230),
     ("1000", "JPY", 1000), ("1.234", "KWD", 1234), ("0.5", "BHD", 500), ("0", "USD", 0)],
)  # fmt: skip
def test_parse_known_values(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency).minor == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [("12.345", "USD"), ("1.5", "JPY"), ("1.2345", "KWD"), ("-1.00", "USD"), ("NaN", "USD"),
     ("Infinity", "USD"), ("1e3", "USD"), ("1E-2", "USD"), ("+1.00", "USD"), ("1,000.00", "USD"),
     (".5", "USD"), ("5.", "USD"), ("", "USD"), (" 1.00", "USD"), ("1.00 ", "USD"), ("0x10", "USD"),
     ("١٢", "USD"), ("1" * 19, "USD")],
)  # fmt: skip
def test_parse_rejects_inexact_or_non_plain_amounts(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(text, currency)


@given(st.text(max_size=12))
def test_parse_accepts_only_plain_decimals(text: str) -> None:
    try:
        parsed = Money.parse(text, "USD", allow_negative=True)
    except InvalidAmount:
        return
    # Whatever was accepted is exactly representable and means what it says.
    assert Money.parse(parsed.to_decimal_string(), "USD", allow_negative=True) == parsed
    assert text.isascii()


def test_negative_amounts_parse_only_when_allowed() -> None:
    assert Money.parse("-1.50", "USD", allow_negative=True).minor == -150


@pytest.mark.parametrize("currency", ["usd", "XXX", "US", "", "EURO"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(UnknownCurrency):
        Money.parse("1", currency)
    with pytest.raises(UnknownCurrency):
        Money(1, currency)


@pytest.mark.parametrize("minor", [1.0, True, "1", None])
def test_minor_units_must_be_a_real_int(minor: object) -> None:
    with pytest.raises(InvalidAmount):
        Money(minor, "USD")  # type: ignore[arg-type]
