"""One process-wide OpenTelemetry SDK with an in-memory exporter (a provider can be set only once)."""

from __future__ import annotations

from functools import cache

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from payments_shared.observability.tracing import configure_sdk


@cache
def span_exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    configure_sdk(exporter, service_name="tests")
    return exporter
