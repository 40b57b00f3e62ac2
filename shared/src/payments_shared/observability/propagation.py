"""W3C trace context across EventBridge (stored with each event, injected into the envelope), and where an
invocation joins the trace when the OneAgent has already opened a span for it."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, set_span_in_context
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


def joined_parent(carried: Context) -> Context | None:
    """The HTTP request's parent: the span already active (the OneAgent's invocation span, which has itself
    continued the request's `traceparent`), else the context the request carried. Starting from the carried
    context while the OneAgent's span is active would open a second trace beside it (logs on the wrong trace,
    the root-span error lesson broken)."""
    return None if trace.get_current_span().get_span_context().is_valid else carried


def message_parent(carried: Context) -> tuple[Context | None, list[Link]]:
    """A queued event's parent: the context its producer stored with it, so the payment's one trace crosses
    EventBridge and SQS (the OneAgent cannot see it: it sits in the body, not in message attributes, so the
    OneAgent's invocation span starts a trace of its own). That invocation span is linked; an event that carried
    no context is simply its child."""
    active = trace.get_current_span().get_span_context()
    if not trace.get_current_span(carried).get_span_context().is_valid:
        return None, []
    return carried, [Link(active)] if active.is_valid else []
