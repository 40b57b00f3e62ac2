"""W3C trace context across EventBridge: stored with each event, injected into the envelope."""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.trace import Span, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from payments_shared.events import TraceContext

# Always W3C, whatever global propagator the Lambda layer installs: the envelope's format is a contract.
_w3c = TraceContextTextMapPropagator()


def current_trace_context(span: Span | None = None) -> TraceContext:
    carrier: dict[str, str] = {}
    _w3c.inject(carrier, context=set_span_in_context(span) if span is not None else None)
    return TraceContext(traceparent=carrier.get("traceparent"), tracestate=carrier.get("tracestate"))


def context_from(trace_context: TraceContext) -> Context:
    carrier = {k: v for k, v in trace_context.model_dump().items() if v}
    return _w3c.extract(carrier)
