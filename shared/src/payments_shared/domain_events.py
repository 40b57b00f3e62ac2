"""Typed domain events: a frozen dataclass per event type, whose fields are the data the event store keeps,
and the registry that turns stored (event type, data) back into them. Stores upcast what they load
(eventstore.schemas), so the registry only ever sees today's shape (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar


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
    """One service's event classes by type."""

    def __init__(self, *classes: type[DomainEvent]) -> None:
        self._classes = {cls.event_type: cls for cls in classes}

    def decode(self, event_type: str, data: Mapping[str, Any]) -> DomainEvent:
        """The typed event of a stored one, whose data is today's shape (the store upcast it)."""
        cls = self._classes.get(event_type)
        if cls is None:
            raise UnknownEventType(f"{event_type} is not an event of this service")
        names = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in data.items() if name in names})
