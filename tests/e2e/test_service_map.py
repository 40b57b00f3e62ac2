"""The dashboard's service map: edges, counts and error rates from spans, and what it draws."""

from __future__ import annotations

import re

from devstack.service_map import Edge, edges, render_svg
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode


def recorded() -> tuple[ReadableSpan, ...]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    for status in (201, 201, 500):
        with tracer.start_as_current_span(
            "POST /payments",
            kind=SpanKind.SERVER,
            attributes={"faas.trigger": "http", "faas.name": "initializer-api", "http.response.status_code": status},
        ):
            with tracer.start_as_current_span(
                "DynamoDB.TransactWriteItems", kind=SpanKind.CLIENT, attributes={"rpc.service": "DynamoDB"}
            ):
                pass
            with tracer.start_as_current_span(
                "DynamoDB.GetItem",
                kind=SpanKind.CLIENT,
                attributes={"rpc.service": "DynamoDB", "aws.dynamodb.table_names": ("ApiPrincipals",)},
            ):
                pass
    with tracer.start_as_current_span(
        "initializer-relay",
        kind=SpanKind.CONSUMER,
        attributes={"faas.trigger": "datasource", "faas.name": "initializer-relay"},
    ):
        with tracer.start_as_current_span(
            "EventBridge.PutEvents", kind=SpanKind.CLIENT, attributes={"rpc.service": "EventBridge"}
        ):
            pass
    with tracer.start_as_current_span(
        "PaymentInitiated process",
        kind=SpanKind.CONSUMER,
        attributes={"faas.trigger": "pubsub", "faas.name": "finalizer"},
    ):
        for failed in (True, False, False):
            with tracer.start_as_current_span(
                "POST /v1/payment_intents", kind=SpanKind.CLIENT, attributes={"peer.service": "stripe"}
            ) as call:
                if failed:
                    call.set_status(Status(StatusCode.ERROR, "HTTP 503"))
    with tracer.start_as_current_span("SQS.ReceiveMessage", kind=SpanKind.CLIENT, attributes={"rpc.service": "SQS"}):
        pass  # the local event source's polling: no invocation, not on the map
    return exporter.get_finished_spans()


def test_edges_count_calls_and_errors_per_caller_and_callee() -> None:
    assert edges(recorded()) == {
        ("API", "initializer-api"): Edge(3, 1),
        ("initializer-api", "initializer tables"): Edge(3, 0),
        ("initializer-api", "ApiPrincipals"): Edge(3, 0),
        ("initializer tables", "initializer-relay"): Edge(1, 0),
        ("initializer-relay", "EventBridge bus"): Edge(1, 0),
        ("EventBridge bus", "finalizer queue"): Edge(1, 0),
        ("finalizer queue", "finalizer"): Edge(1, 0),
        ("finalizer", "PSP (Stripe API)"): Edge(3, 1),
    }


def test_the_map_draws_each_node_once_in_flow_order_with_labelled_edges() -> None:
    svg = render_svg(edges(recorded()))
    x_of = {text: float(x) for x, text in re.findall(r'<tspan x="([\d.]+)"[^>]*>([^<]+)</tspan>', svg)}
    assert len(re.findall(r'<g class="node">', svg)) == len(x_of) == 9
    flow = [
        "API",
        "initializer-api",
        "initializer tables",
        "initializer-relay",
        "EventBridge bus",
        "finalizer",
        "PSP (Stripe API)",
    ]
    assert [x_of[n] for n in flow] == sorted(x_of[n] for n in flow) and len({x_of[n] for n in flow}) == len(flow)
    labels = re.findall(r'stroke-width="3">([^<]+)</text>', svg)
    assert sorted(labels) == sorted(["3 · 33% err", "3", "3", "1", "1", "1", "1", "3 · 33% err"])
    assert render_svg({}) == "<p>no calls recorded yet</p>"
