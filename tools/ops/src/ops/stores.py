"""Whole-table reads for the operator's commands: every event of an event store, every row of a read model.

Scans are paged and strongly consistent (what was written before the scan started is seen); each page
reports progress, since a store holds millions of items in production.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from payments_shared.eventstore.dynamodb import EVENT, deserialize_image, stored_event_from_item
from payments_shared.eventstore.port import StoredEvent
from payments_shared.eventstore.schemas import Schemas

Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    return None


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints (every number we store is an integer), recursively."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [plain(v) for v in value]
    return value


def item_count(dynamodb: Any, table: str) -> int:
    """DynamoDB's estimate (refreshed every ~6 hours): the progress bar's total, never a result."""
    return int(dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0))


def scan(dynamodb: Any, table: str, progress: Progress = no_progress) -> Iterator[dict[str, Any]]:
    """Every item of a table as plain Python values."""
    total, seen = max(item_count(dynamodb, table), 1), 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            seen += 1
            yield plain(deserialize_image(item))
        progress(seen, max(total, seen))


def events_by_stream(rows: Iterator[dict[str, Any]], schemas: Schemas | None = None) -> dict[str, list[StoredEvent]]:
    """An event store's events per stream, in version order (snapshots and markers left out); in their current
    shape when the owning service's schemas are given, as stored otherwise."""
    streams: dict[str, list[StoredEvent]] = defaultdict(list)
    for row in rows:
        if row.get("record_type") == EVENT:
            event = stored_event_from_item(row)
            event = schemas.event(event) if schemas else event
            streams[event.stream_id].append(event)
    for events in streams.values():
        events.sort(key=lambda e: e.version)
    return dict(streams)
