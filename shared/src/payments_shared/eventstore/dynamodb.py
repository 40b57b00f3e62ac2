"""DynamoDB event store: one TransactWriteItems per append, a condition per (stream, version)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from payments_shared.attribute_values import from_item, serialize, to_item
from payments_shared.events import TraceContext
from payments_shared.eventstore.port import (
    MAX_ITEMS_PER_APPEND,
    Append,
    AppendsRefused,
    ConcurrencyConflict,
    DuplicateRecord,
    NewEvent,
    Snapshot,
    StoredEvent,
    StreamsExist,
    StreamSlice,
    ViewChange,
    refusal,
    version_pinned,
)
from payments_shared.eventstore.refusals import reason_codes, refused_for_now
from payments_shared.eventstore.schemas import NO_CHANGES, Schemas
from payments_shared.eventstore.schemas import SNAPSHOT as SNAPSHOT_KIND
from payments_shared.ids import EventId

# Table layout: partition key `stream_id` (S), sort key `version` (N). Events live at version >= 1;
# the stream's snapshot lives at version 0 so it is one GetItem away and never collides with an event.
PK, SK = "stream_id", "version"
SNAPSHOT_VERSION = 0
EVENT, SNAPSHOT = "event", "snapshot"

_to_attr, _from_attr = to_item, from_item


def _json(value: Mapping[str, Any]) -> str:
    # JSON text, not a DynamoDB map: keeps the payload byte-exact and free of Decimal conversions.
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def event_item(stream_id: str, version: int, event: NewEvent, schema_version: int = 1) -> dict[str, Any]:
    return {
        PK: stream_id,
        SK: version,
        "record_type": EVENT,
        "schema_version": schema_version,
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "occurred_at": event.occurred_at.isoformat(),
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "traceparent": event.trace.traceparent,
        "tracestate": event.trace.tracestate,
        "data": _json(event.data),
    }


def stored_event_from_item(item: Mapping[str, Any]) -> StoredEvent:
    """Also used by the relay on stream NEW_IMAGEs (already deserialized)."""
    return StoredEvent(
        stream_id=str(item[PK]),
        version=int(item[SK]),
        event_id=EventId(str(item["event_id"])),
        event_type=str(item["event_type"]),
        data=json.loads(item["data"]),
        occurred_at=datetime.fromisoformat(str(item["occurred_at"])),
        correlation_id=str(item["correlation_id"]),
        causation_id=item.get("causation_id"),
        trace=TraceContext(traceparent=item.get("traceparent"), tracestate=item.get("tracestate")),
        schema_version=int(item.get("schema_version", 1)),  # items from before versions were recorded: 1
    )


def deserialize_image(image: Mapping[str, Any]) -> dict[str, Any]:
    return _from_attr(image)


class ItemWrite(ViewChange):
    """A read-model change as a DynamoDB item write in the append's TransactWriteItems."""

    def transact_item(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class PutItem(ItemWrite):
    """Write a whole row."""

    table: str
    key: Mapping[str, Any]
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def transact_item(self) -> dict[str, Any]:
        return {"Put": {"TableName": self.table, "Item": _to_attr({**self.attributes, **self.key})}}


@dataclass(frozen=True)
class AddToItem(ItemWrite):
    """Atomically add integers to a row's attributes (creating the row and attributes at 0 if absent).

    For projections that many writers update at once (an account's running totals): no read, no conflict.
    """

    table: str
    key: Mapping[str, Any]
    increments: Mapping[str, int]

    def transact_item(self) -> dict[str, Any]:
        names = {f"#a{i}": name for i, name in enumerate(self.increments)}
        values = {f":a{i}": delta for i, delta in enumerate(self.increments.values())}
        return {
            "Update": {
                "TableName": self.table,
                "Key": _to_attr(self.key),
                "UpdateExpression": "ADD " + ", ".join(f"{n} {v}" for n, v in zip(names, values, strict=True)),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": _to_attr(values),
            }
        }


@dataclass(frozen=True)
class SetOnItem(ItemWrite):
    """Set some attributes of a row without reading it (creating the row if absent).

    expected: attributes the row must hold, with these values, for the write (and so its whole append) to
    happen: a guard for a decision taken on a state presumed rather than read. A row that does not match
    refuses the append as a lost race (ConcurrencyConflict): read, then decide again.
    stream_version: the attribute of `expected` that holds the stream's version, for a row written with every
    event of the stream: the guard then pins the stream's version (ViewChange.pinned_version).
    """

    table: str
    key: Mapping[str, Any]
    attributes: Mapping[str, Any]
    expected: Mapping[str, Any] = field(default_factory=dict)
    stream_version: str | None = None

    def __post_init__(self) -> None:
        if any(value is None for value in self.expected.values()):
            raise ValueError("an expected attribute needs a value (a missing one never matches)")
        if self.stream_version is not None and self.stream_version not in self.expected:
            raise ValueError("stream_version names an attribute of `expected`")

    def pinned_version(self) -> int | None:
        return None if self.stream_version is None else int(self.expected[self.stream_version])

    def transact_item(self) -> dict[str, Any]:
        names = {f"#s{i}": name for i, name in enumerate(self.attributes)}
        values = {f":s{i}": value for i, value in enumerate(self.attributes.values())}
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": _to_attr(self.key),
            "UpdateExpression": "SET " + ", ".join(f"{n} = {v}" for n, v in zip(names, values, strict=True)),
            "ExpressionAttributeNames": names,
            # None is stored as NULL here (an attribute cleared), not dropped as in whole-item puts.
            "ExpressionAttributeValues": {k: serialize(v) for k, v in values.items()},
        }
        if self.expected:
            guards = {f"#e{i}": name for i, name in enumerate(self.expected)}
            expected = {f":e{i}": value for i, value in enumerate(self.expected.values())}
            update["ConditionExpression"] = " AND ".join(f"{n} = {v}" for n, v in zip(guards, expected, strict=True))
            update["ExpressionAttributeNames"] = {**names, **guards}
            update["ExpressionAttributeValues"] = {**update["ExpressionAttributeValues"], **_to_attr(expected)}
        return {"Update": update}


def _refused(
    error: ClientError, stream_id: str, expected_version: int, first_claim: int, once: Sequence[str]
) -> Exception:
    """What a refused TransactWriteItems means, from its cancellation reasons (one per item, in order)."""
    code = error.response.get("Error", {}).get("Code", "")
    if code != "TransactionCanceledException":
        return refusal(stream_id, code)
    reasons = reason_codes(error)
    return _reasons_refusal(reasons, stream_id, expected_version, first_claim, once) or refusal(
        stream_id, "TransactionCanceled without a reason"
    )


def _reasons_refusal(
    reasons: Sequence[str], stream_id: str, expected_version: int, first_claim: int, once: Sequence[str]
) -> Exception | None:
    """What an append's own cancellation reasons (one per item of it, in order) mean; None: none is a cause."""
    failed = [i for i, reason in enumerate(reasons) if reason == "ConditionalCheckFailed"]
    # A failed condition is a decision already taken by someone else; it outranks any passing reason. The
    # version's, or a row's guard (SetOnItem.expected: the state the decision presumed is not the stream's).
    if any(i < first_claim or i >= first_claim + len(once) for i in failed):
        return ConcurrencyConflict(stream_id, expected_version)
    claimed = [once[i - first_claim] for i in failed if first_claim <= i < first_claim + len(once)]
    if claimed:
        return DuplicateRecord(claimed[0], claimed)
    passing = [reason for reason in reasons if reason not in ("None", "ConditionalCheckFailed")]
    return refusal(stream_id, passing[0]) if passing else None


def get_row(client: Any, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """One row by key, strongly consistent, as plain Python values (read models use it too)."""
    with refused_for_now(f"{table} {dict(key)}"):
        response = client.get_item(TableName=table, Key=_to_attr(key), ConsistentRead=True)
    return _from_attr(response["Item"]) if "Item" in response else None


def query_rows(client: Any, table: str, partition_key: str, value: str) -> list[dict[str, Any]]:
    """Every row of one partition, strongly consistent, as plain Python values."""
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": partition_key},
        "ExpressionAttributeValues": _to_attr({":pk": value}),
        "ConsistentRead": True,
    }
    rows: list[dict[str, Any]] = []
    while True:
        with refused_for_now(f"{table} {partition_key}={value}"):
            page = client.query(**query)
        rows.extend(_from_attr(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return rows
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class DynamoDBEventStore:
    def __init__(self, client: Any, table_name: str, schemas: Schemas = NO_CHANGES) -> None:
        self._client = client
        self._table = table_name
        self._schemas = schemas  # the service's upcasters: every load returns current shapes

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        changes: Sequence[ViewChange] = (),
        snapshot: Snapshot | None = None,
        once: Sequence[str] = (),
    ) -> list[StoredEvent]:
        append = Append(stream_id, expected_version, events, changes, snapshot, once)
        items, first_claim = self._items(append)
        if not items:
            return []
        if len(items) > MAX_ITEMS_PER_APPEND:
            raise ValueError(f"an append writes at most {MAX_ITEMS_PER_APPEND} items")
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            raise _refused(error, stream_id, expected_version, first_claim, once) from error
        return self._stored_all(append)

    def append_many(self, appends: Sequence[Append]) -> list[StoredEvent]:
        # Each append's items in its own order, one after another; CancellationReasons come back in the same order
        # (one per item, a null code where the item caused nothing), so each append learns its own reasons.
        items: list[dict[str, Any]] = []
        spans: list[tuple[int, int, int]] = []  # per append: its first item, its first claim, its end
        for append in appends:
            own, first_claim = self._items(append)
            spans.append((len(items), len(items) + first_claim, len(items) + len(own)))
            items.extend(own)
        if not items:
            return []
        if len(items) > MAX_ITEMS_PER_APPEND:
            raise ValueError(f"a transaction writes at most {MAX_ITEMS_PER_APPEND} items")
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            reasons = reason_codes(error)
            if code != "TransactionCanceledException" or len(reasons) != len(items):
                raise refusal(appends[0].stream_id, code or "TransactionCanceled") from error
            errors = [
                _reasons_refusal(reasons[start:end], a.stream_id, a.expected_version, claim - start, a.once)
                for a, (start, claim, end) in zip(appends, spans, strict=True)
            ]
            if not any(errors):
                raise refusal(appends[0].stream_id, "TransactionCanceled without a reason") from error
            raise AppendsRefused(errors) from error
        return [event for append in appends for event in self._stored_all(append)]

    def _items(self, append: Append) -> tuple[list[dict[str, Any]], int]:
        """The append's transaction items, in order (version check, events, claims, changes, snapshot), and the
        index of its first claim."""
        stream_id, expected_version, events = append.stream_id, append.expected_version, append.events
        changes, snapshot = append.changes, append.snapshot
        items: list[dict[str, Any]] = []
        if events and expected_version > 0 and not version_pinned(expected_version, changes, snapshot):
            # The stream must be exactly at expected_version: no gaps from a stale or invented number.
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": _to_attr({PK: stream_id, SK: expected_version}),
                        "ConditionExpression": "attribute_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": PK},
                    }
                }
            )
        for offset, event in enumerate(events, start=1):
            version = expected_version + offset
            item = event_item(stream_id, version, event, self._schemas.current(event.event_type))
            items.append({"Put": {**self._absent(), "Item": _to_attr(item)}})
        first_claim = len(items)
        items.extend(
            {"Put": {**self._absent(), "Item": _to_attr({PK: name, SK: SNAPSHOT_VERSION})}} for name in append.once
        )
        items.extend(_item_write(change).transact_item() for change in changes)
        if snapshot is not None:
            state = {
                PK: stream_id,
                SK: SNAPSHOT_VERSION,
                "record_type": SNAPSHOT,
                "snapshot_version": snapshot.version,
                "schema_version": self._schemas.current(SNAPSHOT_KIND),
                "state": _json(snapshot.state),
            }
            items.append({"Put": {"TableName": self._table, "Item": _to_attr(state), **_replacing(snapshot)}})
        return items, first_claim

    def _stored_all(self, append: Append) -> list[StoredEvent]:
        return [
            _stored(append.stream_id, append.expected_version + offset, event, self._schemas.current(event.event_type))
            for offset, event in enumerate(append.events, start=1)
        ]

    def start_streams(self, streams: Sequence[tuple[str, Sequence[NewEvent]]]) -> list[StoredEvent]:
        # One Put per event, each on the condition that its item is new: a stream that exists refuses the lot.
        owners: list[str] = []
        items: list[dict[str, Any]] = []
        for stream_id, events in streams:
            for version, event in enumerate(events, start=1):
                item = event_item(stream_id, version, event, self._schemas.current(event.event_type))
                items.append({"Put": {**self._absent(), "Item": _to_attr(item)}})
                owners.append(stream_id)
        if not items:
            return []
        if len(items) > MAX_ITEMS_PER_APPEND:
            raise ValueError(f"an append writes at most {MAX_ITEMS_PER_APPEND} items")
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = reason_codes(error)
            taken = [owners[i] for i, reason in enumerate(reasons) if reason == "ConditionalCheckFailed"]
            if taken:
                raise StreamsExist(list(dict.fromkeys(taken))) from error
            raise _refused(error, owners[0], 0, len(items), ()) from error
        return [
            _stored(stream_id, version, event, self._schemas.current(event.event_type))
            for stream_id, events in streams
            for version, event in enumerate(events, start=1)
        ]

    def record(self, changes: Sequence[ViewChange], once: str, *more: str) -> None:
        # A claim is an item of the store's own table at version 0 of a stream no event uses (e.g. `totals#…`).
        self.append(once, 0, [], changes, once=[once, *more])

    def _absent(self) -> dict[str, Any]:
        """A Put's condition that the item is new (an event's version, a claim)."""
        return {
            "TableName": self._table,
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": PK},
        }

    def load(
        self, stream_id: str, *, use_snapshot: bool = True, snapshotted: bool = False, trust_snapshot: bool = False
    ) -> StreamSlice:
        snapshot = self._get(stream_id, SNAPSHOT_VERSION) if use_snapshot or snapshotted else None
        if snapshotted and snapshot is None:
            return StreamSlice(stream_id, None, [])
        after = int(snapshot["snapshot_version"]) if snapshot else SNAPSHOT_VERSION
        loaded_snapshot = (
            self._schemas.snapshot(
                Snapshot(
                    version=after,
                    state=json.loads(snapshot["state"]),
                    schema_version=int(snapshot.get("schema_version", 1)),
                )
            )
            if snapshot
            else None
        )
        if snapshot is not None and snapshotted and trust_snapshot:
            return StreamSlice(stream_id, loaded_snapshot, [])  # the append's version condition checks it
        if snapshot is not None:
            # Versions have no gaps: if the one after the snapshot doesn't exist, nothing newer does. One
            # GetItem instead of a Query keeps a snapshotted load O(1) however long the stream grows.
            next_event = self._get(stream_id, after + 1)
            if next_event is None:
                return StreamSlice(stream_id, loaded_snapshot, [])
        events: list[StoredEvent] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND #sk > :after",
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": _to_attr({":pk": stream_id, ":after": after}),
            "ConsistentRead": True,
        }
        while True:
            with refused_for_now(stream_id):
                page = self._client.query(**query)
            events.extend(
                self._schemas.event(stored_event_from_item(_from_attr(item))) for item in page.get("Items", [])
            )
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return StreamSlice(stream_id, loaded_snapshot, events)

    def _get(self, stream_id: str, version: int) -> dict[str, Any] | None:
        return get_row(self._client, self._table, {PK: stream_id, SK: version})


def _replacing(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot Put's condition: the snapshot it replaces is still the stored one (none: any is)."""
    if snapshot.replaces is None:
        return {}
    if snapshot.replaces == SNAPSHOT_VERSION:
        return {"ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PK}}
    return {
        "ConditionExpression": "#v = :v",
        "ExpressionAttributeNames": {"#v": "snapshot_version"},
        "ExpressionAttributeValues": _to_attr({":v": snapshot.replaces}),
    }


def _stored(stream_id: str, version: int, event: NewEvent, schema_version: int) -> StoredEvent:
    return StoredEvent(
        stream_id=stream_id,
        version=version,
        event_id=event.event_id,
        event_type=event.event_type,
        data=dict(event.data),
        occurred_at=event.occurred_at,
        correlation_id=event.correlation_id,
        causation_id=event.causation_id,
        trace=event.trace,
        schema_version=schema_version,
    )


def _item_write(change: ViewChange) -> ItemWrite:
    if not isinstance(change, ItemWrite):
        raise TypeError(f"{type(change).__name__} is not a DynamoDB item write: its read model is another store's")
    return change


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for an event store (the local stack and tests; Terraform mirrors it)."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": PK, "AttributeType": "S"},
            {"AttributeName": SK, "AttributeType": "N"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }
