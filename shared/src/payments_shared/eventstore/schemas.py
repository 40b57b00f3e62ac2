"""Schema versions of stored events and snapshots, and the upcasters that bring an old shape to the current one.

Events are immutable: when a service changes an event's shape it registers a step from the old version to the
next, and every reader (a load, the outbox relay, an operator's rebuild) sees the current shape however old
the item. Each stored event and snapshot records the version it was written at; an item written before
versions were recorded is version 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from payments_shared.eventstore.port import Snapshot, StoredEvent

SNAPSHOT = "snapshot"  # the kind a store's snapshots register their steps under
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Schemas:
    """`steps[(kind, n)]` turns version n of an event type (or of the snapshots) into version n + 1; a kind's
    current version is one past its last step, 1 without any."""

    steps: Mapping[tuple[str, int], Upcaster] = field(default_factory=dict)

    def current(self, kind: str) -> int:
        version = 1
        while (kind, version) in self.steps:
            version += 1
        return version

    def upcast(self, kind: str, version: int, data: Mapping[str, Any]) -> dict[str, Any]:
        if version > self.current(kind):
            raise ValueError(f"{kind} v{version} is newer than this code (v{self.current(kind)}): deploy it first")
        shaped = dict(data)
        while (kind, version) in self.steps:
            shaped = self.steps[(kind, version)](shaped)
            version += 1
        return shaped

    def event(self, stored: StoredEvent) -> StoredEvent:
        current = self.current(stored.event_type)
        if stored.schema_version == current:
            return stored
        return replace(
            stored, data=self.upcast(stored.event_type, stored.schema_version, stored.data), schema_version=current
        )

    def snapshot(self, snapshot: Snapshot) -> Snapshot:
        current = self.current(SNAPSHOT)
        if snapshot.schema_version == current:
            return snapshot
        return replace(
            snapshot, state=self.upcast(SNAPSHOT, snapshot.schema_version, snapshot.state), schema_version=current
        )


NO_CHANGES = Schemas()
