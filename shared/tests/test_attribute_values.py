"""The kernel's AttributeValue codec: round trips, and the same answers as boto3's TypeSerializer/Deserializer
(boto3 is imported here only, as the reference the store's items were written with until now)."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from payments_shared.attribute_values import NUMBER_CONTEXT, deserialize, from_item, serialize, to_item


def _storable(number: Decimal) -> bool:
    try:
        return NUMBER_CONTEXT.create_decimal(number).is_finite()
    except decimal.DecimalException:
        return False


# Numbers DynamoDB stores exactly: up to 38 significant digits, exponent within its range.
integers = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(_storable)
numbers = st.one_of(integers, decimals)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(), st.binary())
sets = st.one_of(
    st.frozensets(integers, min_size=1),
    st.frozensets(decimals, min_size=1),
    st.frozensets(st.text(), min_size=1),
    st.frozensets(st.binary(), min_size=1),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)),
    max_leaves=20,
)
attributes = values.map(TypeSerializer().serialize)


def _plain(value: Any) -> Any:
    """What a value reads back as: numbers as Decimal, sets as sets, containers as list/dict."""
    if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        return value
    if isinstance(value, int | Decimal):
        return NUMBER_CONTEXT.create_decimal(value)
    if isinstance(value, frozenset | set):
        return {_plain(v) for v in value}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return [_plain(v) for v in value]


@given(values)
def test_a_value_reads_back_as_written(value: Any) -> None:
    back = deserialize(serialize(value))
    assert back == _plain(value)
    assert type(back) == type(_plain(value))  # noqa: E721 - the exact type: Decimal, not int; bytes, not bytearray


@given(values)
def test_serialize_agrees_with_boto3(value: Any) -> None:
    ours, boto3s = serialize(value), TypeSerializer().serialize(value)
    # Set members come out in the set's iteration order in both; compare them as sets.
    kind = next(iter(ours))
    if kind in ("NS", "SS", "BS"):
        assert kind in boto3s and set(ours[kind]) == set(boto3s[kind])
    else:
        assert ours == boto3s


@given(attributes)
def test_deserialize_agrees_with_boto3(attribute: dict[str, Any]) -> None:
    # boto3 wraps binary in its Binary, equal to the bytes we return.
    assert deserialize(attribute) == TypeDeserializer().deserialize(attribute)


@given(st.dictionaries(st.text(min_size=1), st.one_of(st.none(), scalars), max_size=6))
def test_a_whole_item_leaves_out_none_and_reads_back(item: dict[str, Any]) -> None:
    written = to_item(item)
    assert written == {k: TypeSerializer().serialize(v) for k, v in item.items() if v is not None}
    assert from_item(written) == {k: _plain(v) for k, v in item.items() if v is not None}


@given(integers)
def test_integers_up_to_38_digits_are_exact(number: int) -> None:
    assert serialize(number) == {"N": str(number)}
    assert int(deserialize({"N": str(number)})) == number


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.5, TypeError),  # floats are inexact: Decimal or int only
        (Decimal("NaN"), TypeError),
        (Decimal("Infinity"), TypeError),
        (Decimal("-Infinity"), TypeError),
        (10**38 + 1, decimal.Inexact),  # 39 significant digits: DynamoDB would not store it exactly
        (Decimal("1E+200"), decimal.Overflow),
        (frozenset(), ValueError),  # DynamoDB refuses empty sets
        ({1, "a"}, TypeError),
        ({True}, TypeError),  # no set of booleans in DynamoDB
        (object(), TypeError),
    ],
)
def test_what_dynamodb_cannot_store_exactly_is_refused(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        serialize(value)


def test_an_empty_or_unknown_attribute_is_refused() -> None:
    with pytest.raises(TypeError):
        deserialize({})
    with pytest.raises(TypeError):
        deserialize({"X": "1"})
