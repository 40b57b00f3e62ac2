"""Typed domain events: a frozen dataclass per event type, whose fields are the data the event store keeps,
and the registry that turns stored (event type, data) back into them — through the service's upcasters, so
an aggregate only ever applies events of today's shape (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from payments_shared.eventstore.schemas import NO_CHANGES, Schemas


@dataclass(frozen=True)
class DomainEvent:
    event_type: ClassVar[str]

    @property
    def data(self) -> dict[str, Any]:
        """The stored payload: one key per field (a field left None is stored as null)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class UnknownEventType(ValueError):
    pass


class EventTypes:
    """One service's event classes by type, and how older shapes of their data are upcast."""

    def __init__(self, *classes: type[DomainEvent], schemas: Schemas = NO_CHANGES) -> None:
        self._classes = {cls.event_type: cls for cls in classes}
        self.schemas = schemas

    def decode(self, event_type: str, data: Mapping[str, Any], schema_version: int | None = None) -> DomainEvent:
        """The typed event of a stored one; `schema_version` None: already today's shape (a store upcast it)."""
        cls = self._classes.get(event_type)
        if cls is None:
            raise UnknownEventType(f"{event_type} is not an event of this service")
        shaped = data if schema_version is None else self.schemas.upcast(event_type, schema_version, data)
        names = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in shaped.items() if name in names})
