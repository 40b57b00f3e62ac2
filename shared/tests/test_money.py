from __future__ import annotations

from decimal import Decimal

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
def test_addition_is_commutative_and_associative_and_subtraction_inverts_it(pair: tuple[Money, Money], k: int) -> None:
    a, b = pair
    c = Money(k, a.currency)
    assert (a + c).minor == a.minor + k and (a - c).minor == a.minor - k
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert (a + b) - b == a and (a + c) - c == a
    assert a + Money.zero(a.currency) == a
    assert a - a == Money.zero(a.currency)
    assert -a + a == Money.zero(a.currency)


@st.composite
def different_currencies(draw: st.DrawFn) -> tuple[Money, Money]:
    first = draw(currencies)
    return draw(money(first)), draw(money(draw(currencies.filter(lambda c: c != first))))


@given(different_currencies())
def test_different_currencies_never_combine(pair: tuple[Money, Money]) -> None:
    a, b = pair
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
    [
        ("12.34", "USD", 1234),
        ("0.01", "EUR", 1),
        ("12", "USD", 1200),
        ("12.3", "USD", 1230),
        ("1000", "JPY", 1000),
        ("1.234", "KWD", 1234),
        ("0.5", "BHD", 500),
        ("0", "USD", 0),
    ],
)
def test_parse_known_values(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency).minor == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("12.345", "USD"),
        ("1.5", "JPY"),
        ("1.2345", "KWD"),
        ("-1.00", "USD"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
        ("1e3", "USD"),
        ("1E-2", "USD"),
        ("+1.00", "USD"),
        ("1,000.00", "USD"),
        (".5", "USD"),
        ("5.", "USD"),
        ("", "USD"),
        (" 1.00", "USD"),
        ("1.00 ", "USD"),
        ("0x10", "USD"),
        ("١٢", "USD"),
        ("1" * 19, "USD"),
    ],
)
def test_parse_rejects_inexact_or_non_plain_amounts(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(text, currency)


@st.composite
def amount_texts(draw: st.DrawFn) -> tuple[str, str]:
    """A plain decimal amount as a client may write it for the currency: optional "-", 1-18 whole digits
    (leading zeros allowed), and up to the currency's exponent of decimals."""
    currency = draw(currencies)
    sign = draw(st.sampled_from(["", "-"]))
    whole = draw(st.text("0123456789", min_size=1, max_size=18))
    decimals = draw(st.text("0123456789", max_size=CURRENCY_EXPONENTS[currency]))
    return sign + whole + ("." + decimals if decimals else ""), currency


@given(amount_texts())
def test_every_plain_decimal_within_the_exponent_parses_to_its_exact_value(text_and_currency: tuple[str, str]) -> None:
    text, currency = text_and_currency
    exact = Decimal(text).scaleb(CURRENCY_EXPONENTS[currency])  # the amount in minor units, by another route
    parsed = Money.parse(text, currency, allow_negative=True)
    assert parsed == Money(int(exact), currency) and exact == int(exact)
    assert Money.parse(parsed.to_decimal_string(), currency, allow_negative=True) == parsed
    if parsed.is_negative():
        with pytest.raises(InvalidAmount, match="negative"):
            Money.parse(text, currency)
    else:
        assert Money.parse(text, currency) == parsed


@given(currencies, st.text("0123456789", min_size=1, max_size=18), st.integers(1, 3), st.data())
def test_more_decimals_than_the_currency_has_are_refused(
    currency: str, whole: str, extra: int, data: st.DataObject
) -> None:
    decimals = data.draw(
        st.text(
            "0123456789", min_size=CURRENCY_EXPONENTS[currency] + extra, max_size=CURRENCY_EXPONENTS[currency] + extra
        )
    )
    with pytest.raises(InvalidAmount, match="decimal places"):
        Money.parse(f"{whole}.{decimals}", currency, allow_negative=True)  # trailing zeros too ("1.500" USD)


@st.composite
def not_amount_texts(draw: st.DrawFn) -> tuple[str, str]:
    """A valid amount spoiled one way: each a form some parser accepts (float(), Decimal(), locales)."""
    valid, currency = draw(amount_texts())
    unsigned = valid.removeprefix("-")
    spoilt = draw(
        st.sampled_from(
            [
                "+" + unsigned,
                "--" + unsigned,
                unsigned + "-",  # signs
                unsigned + "e2",
                unsigned + "E-1",
                "0x" + unsigned,  # notations
                unsigned.partition(".")[0] + ".",
                "." + unsigned.partition(".")[0],  # bare "." forms
                " " + valid,
                valid + " ",
                valid + "\n",
                "1_" + unsigned,
                "1,000",
                "1 000",
                "",  # padding, grouping
                unsigned.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),  # digits, but not ASCII
                "NaN",
                "Infinity",
                "-inf",
                "1" * 19 + unsigned,  # more than 18 whole digits
            ]
        )
    )
    return spoilt, currency


@given(not_amount_texts())
def test_anything_but_a_plain_exact_decimal_is_refused(text_and_currency: tuple[str, str]) -> None:
    text, currency = text_and_currency
    with pytest.raises(InvalidAmount):
        Money.parse(text, currency, allow_negative=True)


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
