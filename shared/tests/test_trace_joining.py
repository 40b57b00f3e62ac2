"""Under the Dynatrace layer the OneAgent opens the invocation's span before our handler runs: our spans join its
trace instead of starting one beside it, and a failure marks it.

A span opened around the handler stands in for the OneAgent's (it is the active span when the handler starts).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from payments_shared.ids import PaymentOrderId
from payments_shared.lambda_entry.http import http_entry
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import build_metrics
from payments_shared.observability.tracing import tracer
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import MERCHANT_1, TEST_CALLERS

# A caller's trace, as a client's traceparent header or a producer's stored context carries it.
CALLER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_TRACEPARENT = f"00-{CALLER_TRACE_ID}-b7ad6b7169203331-01"


def http_handler() -> Any:
    app = APIGatewayRestResolver(enable_validation=True)
    logger = build_logger("api")

    @app.get("/payments/<payment_order_id>")
    def get(payment_order_id: str) -> dict[str, str]:
        with tracer().start_as_current_span("read order"):
            logger.info("order read")
        if payment_order_id == "boom":
            raise RuntimeError("store exploded")
        return {"payment_order_id": payment_order_id}

    return http_entry(app, logger=logger, metrics=build_metrics("api"), callers=lambda: TEST_CALLERS)


def get_request(order_id: str, traceparent: str | None) -> dict[str, Any]:
    headers = {"content-type": "application/json", **({"traceparent": traceparent} if traceparent else {})}
    return {
        "httpMethod": "GET",
        "path": f"/payments/{order_id}",
        "resource": "/payments/{payment_order_id}",
        "body": None,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": {"requestId": "r-1", "identity": {"userArn": MERCHANT_1}},
        "queryStringParameters": None,
        "pathParameters": {"payment_order_id": order_id},
        "isBase64Encoded": False,
    }


def hex_trace(span: ReadableSpan) -> str:
    return f"{span.context.trace_id:032x}"


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [line for line in lines if "message" in line]  # not the metrics (EMF) lines


def test_under_an_active_span_the_request_joins_its_trace_whatever_traceparent_says(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = http_handler()
    with tracer().start_as_current_span("oneagent invocation", kind=SpanKind.SERVER) as outer:
        response = handler(get_request("p-1", CALLER_TRACEPARENT), LambdaContext(function_name="api"))
    assert response["statusCode"] == 200
    outer_trace = f"{outer.get_span_context().trace_id:032x}"
    by_name = {s.name: s for s in spans.get_finished_spans()}
    server = by_name["GET /payments/{payment_order_id}"]
    assert server.kind == SpanKind.SERVER
    assert server.parent is not None and server.parent.span_id == outer.get_span_context().span_id
    assert {hex_trace(s) for s in spans.get_finished_spans()} == {outer_trace}
    lines = log_lines(capsys)
    assert lines and {line["trace_id"] for line in lines} == {outer_trace}, lines


def test_without_an_active_span_the_request_continues_its_traceparent(spans: InMemorySpanExporter) -> None:
    http_handler()(get_request("p-1", CALLER_TRACEPARENT), LambdaContext(function_name="api"))
    server = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER)
    assert hex_trace(server) == CALLER_TRACE_ID
    assert server.parent is not None and f"{server.parent.span_id:016x}" == "b7ad6b7169203331"


def test_a_5xx_marks_the_outer_root_span(spans: InMemorySpanExporter) -> None:
    handler = http_handler()
    with tracer().start_as_current_span("oneagent invocation", kind=SpanKind.SERVER) as outer:
        response = handler(get_request("boom", CALLER_TRACEPARENT), LambdaContext(function_name="api"))
    assert response["statusCode"] == 500
    finished = {s.name: s for s in spans.get_finished_spans()}
    assert finished["oneagent invocation"].status.status_code == StatusCode.ERROR
    assert finished["GET /payments/{payment_order_id}"].status.status_code == StatusCode.ERROR
    assert hex_trace(finished["GET /payments/{payment_order_id}"]) == f"{outer.get_span_context().trace_id:032x}"


def test_a_4xx_leaves_the_outer_span_unmarked(spans: InMemorySpanExporter) -> None:
    handler = http_handler()
    with tracer().start_as_current_span("oneagent invocation"):
        assert handler(get_request("a/b", None), LambdaContext(function_name="api"))["statusCode"] == 404
    outer = next(s for s in spans.get_finished_spans() if s.name == "oneagent invocation")
    assert outer.status.status_code == StatusCode.UNSET


BAD_ORDER = PaymentOrderId.new()


def queued(traceparent: str | None, order_id: str | None = None) -> dict[str, Any]:
    return payment_status_updated(order_id=order_id, traceparent=traceparent)


def test_a_queued_event_continues_its_producers_trace_and_links_the_invocation_span(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = build_logger("consumer")

    def consume(envelope: Any) -> None:
        with tracer().start_as_current_span("apply"):
            logger.info("applied")
        if envelope.correlation_id == BAD_ORDER:
            raise RuntimeError("ledger unavailable")

    handler = queue_entry(consume, logger=logger, metrics=build_metrics("consumer"))
    with tracer().start_as_current_span("oneagent invocation", kind=SpanKind.SERVER) as outer:
        assert deliver(handler, queued(CALLER_TRACEPARENT), queued(CALLER_TRACEPARENT, BAD_ORDER)) == [1]
    records = [s for s in spans.get_finished_spans() if s.name.endswith(" process")]
    assert len(records) == 2
    for record in records:
        assert hex_trace(record) == CALLER_TRACE_ID  # the payment's one trace, across EventBridge and SQS
        assert [link.context.span_id for link in record.links] == [outer.get_span_context().span_id]
    assert {hex_trace(s) for s in spans.get_finished_spans() if s.name == "apply"} == {CALLER_TRACE_ID}
    applied = [line for line in log_lines(capsys) if "applied" in line["message"]]
    assert len(applied) == 2 and {line["trace_id"] for line in applied} == {CALLER_TRACE_ID}
    finished_outer = next(s for s in spans.get_finished_spans() if s.name == "oneagent invocation")
    assert finished_outer.status.status_code == StatusCode.ERROR  # a record failed: the invocation shows it


def test_a_queued_event_without_a_trace_is_a_child_of_the_invocation_span(spans: InMemorySpanExporter) -> None:
    handler = queue_entry(lambda envelope: None, logger=build_logger("c"), metrics=build_metrics("c"))
    with tracer().start_as_current_span("oneagent invocation") as outer:
        assert deliver(handler, queued(None)) == []
    record = next(s for s in spans.get_finished_spans() if s.name.endswith(" process"))
    assert record.parent is not None and record.parent.span_id == outer.get_span_context().span_id
    assert not record.links
