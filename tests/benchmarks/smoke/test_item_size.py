from __future__ import annotations

from typing import Any

import pytest
from benchmarks.item_size import item_size, write_units
from hypothesis import given
from hypothesis import strategies as st


def test_an_item_is_its_names_and_values_as_dynamodb_documents_them() -> None:
    item: dict[str, dict[str, Any]] = {
        "itemType": {"S": "SLOT"},  # 8 + 4
        "id": {"S": "abc1231"},  # 2 + 7
        "expiresAt": {"N": "2099"},  # 9 + 2 (four significant digits) + 1
        "total": {"N": "-1200.500"},  # 5 + 3 (12005: zeroes trimmed) + 1
        "gone": {"NULL": True},  # 4 + 1
        "ok": {"BOOL": False},  # 2 + 1
        "blob": {"B": "AAEC"},  # 4 + 3 raw bytes
        "tags": {"L": [{"S": "a"}, {"N": "1"}]},  # 4 + 3 + (1 + 1) + (1 + 2)
        "m": {"M": {"k": {"S": "vv"}}},  # 1 + 3 + (1 + 1 + 2)
    }
    assert item_size(item) == 12 + 9 + 12 + 9 + 5 + 3 + 7 + 12 + 8


@pytest.mark.parametrize(
    ("size", "transactional", "units"),
    [(1, False, 1), (1024, False, 1), (1025, False, 2), (1024, True, 2), (1025, True, 4), (3000, True, 6)],
)
def test_a_write_is_billed_per_kilobyte_started_and_twice_in_a_transaction(
    size: int, transactional: bool, units: int
) -> None:
    assert write_units(size, transactional) == units


@given(st.text(max_size=300), st.text(min_size=1, max_size=20))
def test_a_string_counts_its_utf8_bytes_and_its_names(text: str, name: str) -> None:
    assert item_size({name: {"S": text}}) == len(name.encode()) + len(text.encode())
