"""Python values to and from DynamoDB's AttributeValue form ({"S": "x"}, {"N": "12"}, …), as the low-level
client sends and returns them.

The same mapping as boto3's `TypeSerializer`/`TypeDeserializer` (equality is property-tested against them),
without importing boto3 (its package import loads s3transfer and the resource layer: a large share of a
cold start). Numbers are exact: int and Decimal in, Decimal out, within DynamoDB's 38 significant digits
(a value that would be rounded is refused, floats are refused). Binary comes back as `bytes` (boto3 wraps it
in its `Binary`, which compares equal).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

# DynamoDB's number range and precision; trapping Inexact/Rounded refuses a number DynamoDB would not
# store exactly (boto3's DYNAMODB_CONTEXT).
NUMBER_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def _number(value: int | Decimal) -> str:
    number = NUMBER_CONTEXT.create_decimal(value)
    if not number.is_finite():
        raise TypeError("Infinity and NaN not supported")
    return str(number)


def _is_number(value: Any) -> bool:
    # bool is an int to Python, not a number to DynamoDB (it has BOOL, and no set of them).
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def serialize(value: Any) -> dict[str, Any]:
    """One value as an AttributeValue."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": value}
    if isinstance(value, Set):
        return _serialize_set(value)
    if isinstance(value, Mapping):
        return {"M": {k: serialize(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def _serialize_set(value: Set[Any]) -> dict[str, Any]:
    # DynamoDB refuses an empty set (boto3 would send {"NS": []} and get a ValidationException back).
    if not value:
        raise ValueError("DynamoDB sets may not be empty")
    if all(_is_number(v) for v in value):
        return {"NS": [_number(v) for v in value]}
    if all(isinstance(v, str) for v in value):
        return {"SS": list(value)}
    if all(isinstance(v, bytes | bytearray) for v in value):
        return {"BS": list(value)}
    raise TypeError(f"a set of mixed or unsupported types: {value!r}")


def deserialize(attribute: Mapping[str, Any]) -> Any:
    """One AttributeValue as a Python value."""
    if not attribute:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind, value = next(iter(attribute.items()))
    if kind == "S":
        return value
    if kind == "N":
        return NUMBER_CONTEXT.create_decimal(value)
    if kind == "M":
        return {k: deserialize(v) for k, v in value.items()}
    if kind == "L":
        return [deserialize(v) for v in value]
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "B":
        return bytes(value)
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {NUMBER_CONTEXT.create_decimal(v) for v in value}
    if kind == "BS":
        return {bytes(v) for v in value}
    raise TypeError(f"Dynamodb type {kind} is not supported")


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """A whole item (or key): attributes that are None are left out, not stored as NULL."""
    return {k: serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: deserialize(v) for k, v in item.items()}
