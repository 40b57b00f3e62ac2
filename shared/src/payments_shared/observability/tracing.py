"""Tracer access and the root-span error rule.

Code here uses only the OpenTelemetry API. In Lambda the Dynatrace OneAgent layer installs the SDK and
owns the invocation's root span; locally and in tests `configure_sdk` installs the SDK with an exporter.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

TRACER_NAME = "payments"
_instrumented = False
_instrument_lock = threading.Lock()


@functools.cache
def tracer() -> trace.Tracer:
    """One tracer per process: the SDK builds a new Tracer on every get_tracer (~20 µs an invocation).
    Asked before a provider is set, this is the API's proxy, which binds to the provider once there is one."""
    return trace.get_tracer(TRACER_NAME)


def configure_sdk(exporter: SpanExporter, service_name: str = "payments") -> TracerProvider:
    """Local runs and tests only: the SDK with a synchronous exporter (in-memory or console)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def instrument_botocore() -> None:
    """Trace every AWS SDK call as a CLIENT span (the seed's BotocoreInstrumentor lesson); idempotent."""
    global _instrumented
    with _instrument_lock:
        if _instrumented:
            return
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        # Without the dependency check: it looks botocore's distribution up with importlib.metadata (a scan
        # of every path entry's metadata at each cold start) to confirm what the zip pins anyway. The
        # library's own import of `packaging` (instrumentor.py imports the check's module) cannot be avoided.
        BotocoreInstrumentor().instrument(skip_dep_check=True)
        _instrumented = True


def mark_error(spans: Iterable[Span], error: BaseException | None = None, description: str = "") -> None:
    """Mark spans (always including the root) as failed, so the invocation shows as failed.

    The seed's lesson: an error recorded only on a child span leaves the invocation "successful".
    """
    for span in spans:
        if not span.is_recording():
            continue
        if error is not None:
            span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, description or (type(error).__name__ if error else "")))


def trace_ids(span: Span | None = None) -> tuple[str, str] | None:
    """(trace_id, span_id) as lower-case hex of the given or current span, or None without a trace."""
    context = (span or trace.get_current_span()).get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"
