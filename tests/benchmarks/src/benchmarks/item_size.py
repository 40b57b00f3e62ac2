"""A DynamoDB item's billed size, from its wire form (AttributeValues), as DynamoDB documents it.

https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html: an item's size is
the sum of its attribute names' and values' UTF-8 lengths; a number takes 1 byte per two significant digits plus
1; a binary its raw bytes; null and Boolean 1 byte; a list or map 3 bytes plus its elements, each 1 byte more.
A write unit covers 1 KB of an item (a transactional write two units per KB); an update is billed on the larger
of the item before and after it.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any

KB = 1024


def _number(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0].strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return _number(inner)
    if kind == "B":
        return len(base64.b64decode(inner) if isinstance(inner, str) else inner)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in inner.items())
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(_number(n) for n in inner)
    if kind == "BS":
        return sum(len(base64.b64decode(b) if isinstance(b, str) else b) for b in inner)
    raise ValueError(f"not an AttributeValue type: {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes, as billed."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int, transactional: bool) -> int:
    """Write units for one item of `size` bytes: 1 per KB started (a transaction: 2 per KB started)."""
    return (2 if transactional else 1) * max(1, math.ceil(size / KB))
