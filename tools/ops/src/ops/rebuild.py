"""Rebuild a read model from its owning event store, into a fresh table or in place, and diff it.

Safe while traffic flows. In place, a versioned row is written only if the live row is absent or not newer
(`version <= rebuilt`); the ledger's totals, which are sums over many streams, are compare-and-set: a row is
replaced only if it still holds what was read before the journal was scanned, so an entry the projection
adds meanwhile makes the write fail and that row is rebuilt again on a fresh read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from ops.read_models import Key, ReadModel, Row
from ops.stores import Progress, no_progress, scan
from payments_shared.retry import RetryPolicy, retry
from payments_shared.topology import EVENT_STORES

_serializer = TypeSerializer()
BATCH_WRITE_RETRY = RetryPolicy(attempts=8, base_delay_s=0.05, max_delay_s=2.0)
CAS_ROUNDS = 5  # an unversioned row still moving after this many reads is left for the next run


@dataclass
class Difference:
    key: Key
    kind: str  # missing (no live row) | extra (no event explains it) | different | live-newer (not a fault)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # attribute -> (live, rebuilt)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": list(self.key),
            "kind": self.kind,
            "fields": {name: {"live": live, "rebuilt": rebuilt} for name, (live, rebuilt) in self.fields.items()},
        }


def _attr(row: Row) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in row.items() if v is not None}


def diff(model: ReadModel, live: list[Row], rebuilt: list[Row]) -> list[Difference]:
    """What the live table holds that its events do not say, row by row (writing times ignored)."""
    by_key = {model.key_of(row): row for row in live}
    found: list[Difference] = []
    for row in rebuilt:
        key = model.key_of(row)
        current = by_key.pop(key, None)
        if current is None:
            found.append(Difference(key, "missing"))
            continue
        if model.versioned and int(current.get("version", 0)) > int(row.get("version", 0)):
            found.append(Difference(key, "live-newer"))  # written after the scan: traffic, not a fault
            continue
        changed = {
            name: (current.get(name), value)
            for name, value in row.items()
            if name not in model.volatile and current.get(name) != value
        }
        if changed:
            found.append(Difference(key, "different", changed))
    for key, row in by_key.items():
        zero = model.zero(key) if model.zero else None
        if zero is None or any(row.get(k) != v for k, v in zero.items()):
            found.append(Difference(key, "extra"))
    return sorted(found, key=lambda d: [str(part) for part in d.key])


def faults(differences: list[Difference]) -> list[Difference]:
    return [d for d in differences if d.kind != "live-newer"]


def _key_condition(model: ReadModel, live: Row | None) -> dict[str, Any]:
    if model.versioned:
        return {
            "ConditionExpression": "attribute_not_exists(#k) OR #v <= :v",
            "ExpressionAttributeNames": {"#k": model.key[0], "#v": "version"},
        }
    if live is None:
        return {"ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": model.key[0]}}
    return {
        "ConditionExpression": "#d = :d AND #c = :c",
        "ExpressionAttributeNames": {"#d": "debits_minor", "#c": "credits_minor"},
        "ExpressionAttributeValues": _attr({":d": live.get("debits_minor", 0), ":c": live.get("credits_minor", 0)}),
    }


def _put_if(dynamodb: Any, model: ReadModel, row: Row, live: Row | None) -> bool:
    condition = _key_condition(model, live)
    if model.versioned:
        condition["ExpressionAttributeValues"] = _attr({":v": row.get("version", 0)})
    try:
        dynamodb.put_item(TableName=model.table, Item=_attr(row), **condition)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _derive(dynamodb: Any, model: ReadModel, progress: Progress) -> list[Row]:
    return model.derive(list(scan(dynamodb, EVENT_STORES[model.store], progress)))


def _in_place(dynamodb: Any, model: ReadModel, progress: Progress) -> tuple[int, int, list[Row]]:
    """(rows written, rows left because they moved meanwhile, the rebuilt rows)."""
    written, pending = 0, None  # None: every row
    for _ in range(1 if model.versioned else CAS_ROUNDS):
        # The live rows are read before the events: whatever is added to a row after this read either is in
        # the scan (and the row's condition fails) or comes after the write.
        live = {model.key_of(row): row for row in scan(dynamodb, model.table)}
        rebuilt = _derive(dynamodb, model, progress)
        wanted = {model.key_of(row): row for row in rebuilt}
        if model.zero is not None:
            wanted.update({key: model.zero(key) for key in live if key not in wanted})
        moved: set[Key] = set()
        for key, row in wanted.items():
            if pending is not None and key not in pending:
                continue
            if key in live and not faults(diff(model, [live[key]], [row])):
                continue  # already right, or newer than the scan
            if _put_if(dynamodb, model, row, live.get(key)):
                written += 1
            else:
                moved.add(key)
        if model.versioned or not moved:
            break
        pending = moved
    return written, len(moved), rebuilt


def _fresh_table(dynamodb: Any, model: ReadModel, name: str) -> None:
    live = dynamodb.describe_table(TableName=model.table)["Table"]
    # The same keys and indexes (BreakingTheBank's sparse index of payments awaiting 3-D Secure).
    indexes = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in live.get("GlobalSecondaryIndexes", [])
    ]
    dynamodb.create_table(
        TableName=name,
        KeySchema=live["KeySchema"],
        AttributeDefinitions=live["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


class _Unprocessed(Exception):
    """BatchWriteItem left some rows unwritten (throttling): they go again after a pause."""


def _write_all(dynamodb: Any, table: str, rows: list[Row], progress: Progress) -> None:
    for start in range(0, len(rows), 25):  # BatchWriteItem's limit
        pending = {table: [{"PutRequest": {"Item": _attr(row)}} for row in rows[start : start + 25]]}

        def attempt(_: int) -> None:
            nonlocal pending
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                raise _Unprocessed

        retry(attempt, on=(_Unprocessed,), policy=BATCH_WRITE_RETRY)  # then the command fails: run it again
        progress(min(start + 25, len(rows)), len(rows))


def rebuild(
    dynamodb: Any,
    model: ReadModel,
    *,
    in_place: bool = False,
    into: str | None = None,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """Rebuild `model`; returns what was written where and the live table's differences from the events
    before the rebuild (`before`) and after it (`after`: empty once in place, bar rows written meanwhile)."""
    rebuilt = _derive(dynamodb, model, progress)
    before = diff(model, list(scan(dynamodb, model.table)), rebuilt)
    result: dict[str, Any] = {"read_model": model.name, "table": model.table, "store": EVENT_STORES[model.store]}
    if in_place:
        written, moved, rebuilt = _in_place(dynamodb, model, progress)
        result.update(target=model.table, written=written, moved_meanwhile=moved)
    else:
        target = into or f"{model.table}-rebuilt-{time.strftime('%Y%m%d%H%M%S')}"
        _fresh_table(dynamodb, model, target)
        _write_all(dynamodb, target, rebuilt, progress)
        result.update(target=target, written=len(rebuilt), moved_meanwhile=0)
    after = diff(model, list(scan(dynamodb, model.table)), rebuilt) if in_place else before
    result.update(
        rows=len(rebuilt), before=[d.as_dict() for d in faults(before)], after=[d.as_dict() for d in faults(after)]
    )
    return result
