"""The integration-event envelope every service publishes on EventBridge (`detail`), versioned."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from payments_shared.ids import EventId

# A consumer understands envelopes up to this schema version; newer ones are refused, not misread.
ENVELOPE_SCHEMA_VERSION = 1


class UnsupportedSchemaVersion(ValueError):
    pass


class TraceContext(BaseModel):
    """W3C trace context carried with the event so consumers continue the producer's trace."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    traceparent: str | None = None
    tracestate: str | None = None


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: EventId
    event_type: str = Field(min_length=1, max_length=128)
    schema_version: int = Field(default=ENVELOPE_SCHEMA_VERSION, ge=1)
    occurred_at: AwareDatetime
    aggregate_id: str = Field(min_length=1)
    aggregate_version: int = Field(ge=1)
    correlation_id: str = Field(min_length=1)
    causation_id: str | None = None
    trace: TraceContext = TraceContext()
    data: dict[str, Any]

    def to_eventbridge_entry(self, *, source: str, bus_name: str) -> dict[str, Any]:
        return {
            "Source": source,
            "DetailType": self.event_type,
            "Detail": self.model_dump_json(),
            "EventBusName": bus_name,
            "Time": self.occurred_at,
        }

    @classmethod
    def from_eventbridge_event(cls, event: dict[str, Any]) -> EventEnvelope:
        """Parse the `detail` of an EventBridge event as delivered to a Lambda target."""
        detail = event.get("detail")
        if isinstance(detail, str):  # PutEvents input echoed back as a string (e.g. in tests or archives)
            detail = json.loads(detail)
        envelope = cls.model_validate(detail)
        envelope.ensure_supported()
        return envelope

    def ensure_supported(self, max_version: int = ENVELOPE_SCHEMA_VERSION) -> None:
        if self.schema_version > max_version:
            raise UnsupportedSchemaVersion(
                f"{self.event_type} schema_version {self.schema_version} > supported {max_version}"
            )


def utc_now() -> datetime:
    return datetime.now(UTC)
