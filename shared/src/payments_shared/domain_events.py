"""What an aggregate decided: its event type and data, the payload the event store keeps (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DomainEvent:
    event_type: str
    data: Mapping[str, Any]
