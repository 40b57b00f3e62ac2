"""Makes moto's TransactWriteItems cost what the transaction touches, not what the tables hold.

moto (5.2) backs up every table a transaction names with a deep copy (all rows and the whole stream
history) before each TransactWriteItems, and swaps the copies in on failure. Over a few hundred payments
that makes every write slower than the last, and a 1000-payment run grows past 14 GB. This keeps moto's
all-or-nothing behaviour with a backup of only the rows the transaction names and the stream's length.
"""

from __future__ import annotations

import copy
from typing import Any

import moto.dynamodb.models as backend_module
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_moto_transact_write_items = DynamoDBBackend.transact_write_items

RowKey = tuple[DynamoType, DynamoType | None]


class _CopyExceptTables:
    """Stands in for moto's `copy` module during a transaction: tables are backed up row by row instead."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value)


def _row_key(table: Table, key_or_item: dict[str, Any]) -> RowKey:
    hash_value = DynamoType(key_or_item[table.hash_key_attr])
    range_value = DynamoType(key_or_item[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table: Table, key: RowKey, row: Any) -> None:
    hash_value, range_value = key
    rows: Any = table.items[hash_value] if range_value is not None else table.items
    row_key = range_value if range_value is not None else hash_value
    if row is None:
        rows.pop(row_key, None)
    else:
        rows[row_key] = row


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    backups: list[tuple[Table, RowKey, Any]] = []
    for entry in transact_items:
        operation = next(iter(entry.values()))
        table = self.tables.get(operation.get("TableName"))
        if table is None:
            continue  # moto answers the unknown table itself
        try:
            key = _row_key(table, operation.get("Key") or operation["Item"])
            backups.append((table, key, copy.deepcopy(table.get_item(*key))))
        except Exception:  # noqa: BLE001, S112 - a malformed key: moto's own validation answers it
            continue
    streams = {id(t): (t.stream_shard, len(t.stream_shard.items)) for t, _, _ in backups if t.stream_shard is not None}
    backend_module.copy = _CopyExceptTables  # type: ignore[assignment]
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, key, row in reversed(backups):
            _restore(table, key, row)
        for shard, length in streams.values():
            del shard.items[length:]
        raise
    finally:
        backend_module.copy = copy


def install() -> None:
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
