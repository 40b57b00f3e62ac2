"""The invocation's root span, shared by every kind of entry point."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind

from payments_shared.observability.tracing import mark_error, tracer

LambdaHandler = Callable[[dict[str, Any], Any], Any]

_cold_start = True
_cold_start_lock = threading.Lock()  # a batch's records may open their spans at once: one of them is the cold one


def function_name(context: Any) -> str:
    return str(getattr(context, "function_name", "") or "")


def _take_cold_start() -> bool:
    global _cold_start
    with _cold_start_lock:
        cold, _cold_start = _cold_start, False
    return cold


def start_invocation_span(
    name: str,
    kind: SpanKind,
    parent: Context | None = None,
    attributes: dict[str, Any] | None = None,
    links: Sequence[Link] = (),
) -> Span:
    """A root span as invocation_span opens it, started without becoming current: for a record of a batch whose
    work is done in turns, batch-wide writes between them (trace.use_span enters it; the caller ends it)."""
    attrs = {"faas.coldstart": _take_cold_start(), **(attributes or {})}
    return tracer().start_span(name, context=parent, kind=kind, attributes=attrs, links=links)


@contextmanager
def invocation_span(
    name: str,
    kind: SpanKind,
    parent: Context | None = None,
    attributes: dict[str, Any] | None = None,
    links: Sequence[Link] = (),
) -> Iterator[list[Span]]:
    """Open this invocation's root span; yield the spans that must carry its error status.

    Under the Dynatrace layer the OneAgent already owns a recording span for the invocation; it is
    marked too, so Dynatrace shows the invocation as failed (the seed's root-span lesson).
    """
    outer = trace.get_current_span()
    attrs = {"faas.coldstart": _take_cold_start(), **(attributes or {})}
    with tracer().start_as_current_span(
        name,
        kind=kind,
        context=parent,
        attributes=attrs,
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        roots = [span, outer] if outer.is_recording() else [span]
        try:
            yield roots
        except BaseException as error:
            mark_error(roots, error)
            raise
