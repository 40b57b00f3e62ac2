"""Finished spans across a process boundary: an execution environment's spans as plain data (the SDK's spans
hold locks and cannot be pickled), made SDK spans again in the local run, which exports them."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags


def _context(context: SpanContext | None) -> tuple[int, int, bool, int] | None:
    if context is None:
        return None
    return (context.trace_id, context.span_id, context.is_remote, int(context.trace_flags))


def _span_context(fields: tuple[int, int, bool, int] | None) -> SpanContext | None:
    if fields is None:
        return None
    trace_id, span_id, is_remote, flags = fields
    return SpanContext(trace_id, span_id, is_remote, TraceFlags(flags))


def portable(span: ReadableSpan) -> dict[str, Any]:
    scope = span.instrumentation_scope
    return {
        "name": span.name,
        "context": _context(span.context),
        "parent": _context(span.parent),
        "resource": dict(span.resource.attributes),
        "attributes": dict(span.attributes or {}),
        "events": [(e.name, dict(e.attributes or {}), e.timestamp) for e in span.events],
        "links": [(_context(link.context), dict(link.attributes or {})) for link in span.links],
        "kind": span.kind.value,
        "status": (span.status.status_code.value, span.status.description),
        "start_time": span.start_time,
        "end_time": span.end_time,
        "scope": (scope.name, scope.version, scope.schema_url) if scope else None,
    }


def restored(data: dict[str, Any], resource: Resource | None = None) -> ReadableSpan:
    """The span again; with another resource when given (the function's own, for an OTLP backend)."""
    code, description = data["status"]
    return ReadableSpan(
        name=data["name"],
        context=_span_context(data["context"]),
        parent=_span_context(data["parent"]),
        resource=resource or Resource(data["resource"]),
        attributes=data["attributes"],
        events=[Event(name, attributes, timestamp) for name, attributes, timestamp in data["events"]],
        links=[Link(_span_context(context), attributes) for context, attributes in data["links"]],  # type: ignore[arg-type]
        kind=SpanKind(data["kind"]),
        status=Status(StatusCode(code), description),
        start_time=data["start_time"],
        end_time=data["end_time"],
        instrumentation_scope=InstrumentationScope(*data["scope"]) if data["scope"] else None,
    )
