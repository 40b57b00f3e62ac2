"""The outbox relay: DynamoDB stream (NEW_IMAGE) of an event store → EventBridge PutEvents.

The event store *is* the outbox, so a crash between the write and the publish loses nothing: the stream
redelivers until this relay reports success. Publishing is at-least-once; consumers dedupe on event_id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from payments_shared.contracts import public_data
from payments_shared.events import EventEnvelope, TraceContext
from payments_shared.eventstore.port import StoredEvent
from payments_shared.eventstore.schemas import NO_CHANGES, Schemas
from payments_shared.eventstore.stream_records import inserted_events
from payments_shared.observability.propagation import context_from, current_trace_context, message_parent
from payments_shared.observability.tracing import tracer
from payments_shared.retry import RetryPolicy, retry

PUT_EVENTS_MAX_ENTRIES = 10  # EventBridge PutEvents limit per call


class _EntriesFailed(Exception):
    """Some entries of a PutEvents call failed (or the whole call did)."""


@dataclass
class _Pending:
    sequence_number: str
    event: StoredEvent
    span: Span
    entry: dict[str, Any]


def integration_envelope(stored: StoredEvent, event_type: str, trace: TraceContext | None = None) -> EventEnvelope:
    """A stored event as published: under its integration type, with only its contract's data (and, when
    given, the publishing span's trace context instead of the stored one)."""
    return stored.to_envelope().model_copy(
        update={
            "event_type": event_type,
            "data": public_data(event_type, stored.data),
            "trace": trace or stored.trace,
        }
    )


class OutboxRelay:
    def __init__(
        self,
        events_client: Any,
        bus_name: str,
        source: str,
        *,
        published_types: Mapping[str, str] | None = None,
        schemas: Schemas = NO_CHANGES,
        max_attempts: int = 4,
        base_delay_s: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = events_client
        self._bus = bus_name
        self._source = source
        # Internal event type -> integration event type (EventBridge detail-type). Types not listed stay
        # private to the service; None publishes every event under its own type.
        self._published_types = published_types
        self._schemas = schemas  # a record written by older code is published in today's shape
        self._policy = RetryPolicy(attempts=max_attempts, base_delay_s=base_delay_s, max_delay_s=1.0)
        self._sleep = sleep

    def handle_stream_batch(self, event: dict[str, Any]) -> dict[str, Any]:
        """Publish every new event of the batch; return the Lambda partial-batch response.

        Not Powertools' BatchProcessor: it handles one record at a time, which would cost one PutEvents
        call per event instead of one per ten. The response has the same shape, so the event source
        mapping's ReportBatchItemFailures retries exactly what failed.
        """
        pending = [
            self._prepare(sequence_number, self._schemas.event(stored))
            for sequence_number, stored in inserted_events(event)
            if self._published_types is None or stored.event_type in self._published_types
        ]
        failed = self.publish(pending)
        return {"batchItemFailures": [{"itemIdentifier": p.sequence_number} for p in failed]}

    def _prepare(self, sequence_number: str, stored: StoredEvent) -> _Pending:
        event_type = (self._published_types or {}).get(stored.event_type, stored.event_type)
        # PRODUCER span continues the trace stored with the event; its context travels in the envelope.
        parent, links = message_parent(context_from(stored.trace))
        span = tracer().start_span(
            f"{event_type} publish",
            kind=SpanKind.PRODUCER,
            context=parent,
            links=links,
            attributes={
                "messaging.system": "aws.eventbridge",
                "messaging.operation.type": "publish",
                "messaging.destination.name": self._bus,
                "messaging.message.id": str(stored.event_id),
                "payments.aggregate_id": stored.stream_id,
            },
        )
        envelope = integration_envelope(stored, event_type, current_trace_context(span))
        entry = envelope.to_eventbridge_entry(source=self._source, bus_name=self._bus)
        return _Pending(sequence_number, stored, span, entry)

    def publish(self, pending: Sequence[_Pending]) -> list[_Pending]:
        """PutEvents in batches of ten, retrying only failed entries; returns what still failed."""
        still_failed: list[_Pending] = []
        for start in range(0, len(pending), PUT_EVENTS_MAX_ENTRIES):
            still_failed.extend(self._publish_batch(list(pending[start : start + PUT_EVENTS_MAX_ENTRIES])))
        failed_ids = {id(item) for item in still_failed}
        for item in pending:
            if id(item) in failed_ids:
                item.span.set_status(Status(StatusCode.ERROR, "PutEvents entry failed after retries"))
            item.span.end()
        return still_failed

    def _publish_batch(self, batch: list[_Pending]) -> list[_Pending]:
        remaining = batch

        def attempt(_: int) -> None:
            nonlocal remaining
            try:
                response = self._client.put_events(Entries=[p.entry for p in remaining])
            except Exception as error:  # botocore already retried its own way; this retries the batch
                for item in remaining:
                    item.span.record_exception(error)
                raise _EntriesFailed from error
            # Entries come back in request order; only those with an ErrorCode failed: only they go again.
            remaining = [p for p, r in zip(remaining, response.get("Entries", []), strict=False) if r.get("ErrorCode")]
            if response.get("FailedEntryCount"):
                raise _EntriesFailed

        try:
            retry(attempt, on=(_EntriesFailed,), policy=self._policy, sleep=self._sleep)
        except _EntriesFailed:
            pass  # what still failed goes back to the stream, which redelivers it
        return remaining
