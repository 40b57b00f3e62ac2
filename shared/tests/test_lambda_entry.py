"""HTTP entry: problem+json for bad input, generic 500s, and the root span's error status."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel, Field

from payments_shared.callers import current_caller
from payments_shared.lambda_entry.http import http_entry
from payments_shared.lambda_entry.queue import QueuedRecord, queue_batch_entry, queue_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import build_metrics
from payments_shared.observability.tracing import tracer
from payments_shared.problems import Forbidden, NotFound
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import MERCHANT_1, TEST_CALLERS


class Order(BaseModel):
    amount: str = Field(pattern=r"^[0-9]+\.[0-9]{2}$")
    currency: str = Field(min_length=3, max_length=3)


def build() -> Any:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.post("/orders")
    def create(order: Order) -> dict[str, str]:
        return {"amount": order.amount}

    @app.get("/orders/<order_id>")
    def get(order_id: str) -> dict[str, str]:
        if order_id == "boom":
            with tracer().start_as_current_span("db read"):
                raise RuntimeError("secret internal detail 4111111111111111")
        raise NotFound(f"no order {order_id}")

    return http_entry(app, logger=build_logger("api"), metrics=build_metrics("api"), callers=lambda: TEST_CALLERS)


def request(method: str, path: str, body: str | None = None, resource: str | None = None) -> dict[str, Any]:
    return {
        "httpMethod": method,
        "path": path,
        "resource": resource or path,
        "body": body,
        "headers": {"content-type": "application/json"},
        "requestContext": {"requestId": "r-1", "identity": {"userArn": MERCHANT_1}},
        "queryStringParameters": None,
        "pathParameters": None,
        "isBase64Encoded": False,
    }


def root(spans: InMemorySpanExporter) -> Any:
    return next(s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER)


def test_invalid_body_is_a_400_problem_naming_every_bad_field(spans: InMemorySpanExporter) -> None:
    response = build()(request("POST", "/orders", json.dumps({"amount": "1.5"})), LambdaContext())
    body = json.loads(response["body"])
    assert response["statusCode"] == 400
    assert response["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]
    assert {e["field"] for e in body["errors"]} == {"body.amount", "body.currency"}
    assert body["status"] == 400 and body["type"].startswith("urn:payments:problem:")
    assert root(spans).status.status_code == StatusCode.UNSET  # a 4xx is the client's, not ours


@pytest.mark.parametrize("raw", ["{not json", "", "[]", "null"])
def test_malformed_json_is_a_400_problem(raw: str, spans: InMemorySpanExporter) -> None:
    response = build()(request("POST", "/orders", raw), LambdaContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"]


NOT_JSON = ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded", "application/merge-patch+json"]


@pytest.mark.parametrize("content_type", NOT_JSON)
def test_a_body_that_is_not_json_is_a_415_problem(content_type: str, spans: InMemorySpanExporter) -> None:
    event = request("POST", "/orders", json.dumps({"amount": "1.50", "currency": "EUR"}))
    event["headers"] = {"Content-Type": content_type}
    response = build()(event, LambdaContext())
    assert response["statusCode"] == 415
    assert response["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]
    assert json.loads(response["body"])["type"] == "urn:payments:problem:unsupported-media-type"
    assert root(spans).attributes["http.response.status_code"] == 415


def test_a_binary_body_is_a_400_problem_not_a_crash() -> None:
    event = request("POST", "/orders", base64.b64encode(b"\x80\xff{").decode())
    event["isBase64Encoded"] = True
    response = build()(event, LambdaContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"] == [{"field": "body", "reason": "not UTF-8 text"}]


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8", "Application/JSON"])
def test_json_bodies_are_accepted_with_or_without_a_content_type(content_type: str | None) -> None:
    event = request("POST", "/orders", json.dumps({"amount": "1.50", "currency": "EUR"}))
    event["headers"] = {"Content-Type": content_type} if content_type else {}
    assert build()(event, LambdaContext())["statusCode"] == 200


def test_domain_problem_maps_to_its_status() -> None:
    response = build()(request("GET", "/orders/x1", resource="/orders/{order_id}"), LambdaContext())
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["detail"] == "no order x1"


def test_unexpected_error_is_a_generic_500_and_marks_the_root_span(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    response = build()(request("GET", "/orders/boom", resource="/orders/{order_id}"), LambdaContext())
    assert response["statusCode"] == 500
    assert "secret" not in response["body"] and "Traceback" not in response["body"]
    server = root(spans)
    assert server.status.status_code == StatusCode.ERROR
    assert any(e.name == "exception" for e in server.events)
    assert (server.attributes or {})["http.response.status_code"] == 500
    assert "4111111111111111" not in capsys.readouterr().out  # the logged exception is redacted too


def test_success_leaves_the_root_span_ok_and_records_cold_start(spans: InMemorySpanExporter) -> None:
    handler = build()
    ok = request("POST", "/orders", json.dumps({"amount": "1.50", "currency": "USD"}))
    assert handler(ok, LambdaContext())["statusCode"] == 200
    assert handler(ok, LambdaContext())["statusCode"] == 200
    servers = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert [s.status.status_code for s in servers] == [StatusCode.UNSET] * 2
    assert (servers[-1].attributes or {})["faas.coldstart"] is False


def test_incoming_traceparent_is_continued(spans: InMemorySpanExporter) -> None:
    event = request("POST", "/orders", json.dumps({"amount": "1.50", "currency": "USD"}))
    event["headers"]["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    build()(event, LambdaContext())
    assert root(spans).context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C


def test_an_unknown_principal_is_refused_before_routing_and_the_caller_never_leaks_between_requests(
    spans: InMemorySpanExporter,
) -> None:
    stranger = request("GET", "/orders/o-1")
    stranger["requestContext"]["identity"] = {"userArn": "arn:aws:iam::123456789012:user/stranger"}
    response = build()(stranger, LambdaContext())
    assert response["statusCode"] == 403 and json.loads(response["body"])["type"] == "urn:payments:problem:forbidden"
    with pytest.raises(Forbidden):
        current_caller()  # outside a request there is no caller


def test_concurrent_queue_batches_each_report_their_own_failures() -> None:
    # The entry point keeps no batch's failures where another batch would find them (module or class state):
    # a batch reports its own failed records, or a failed record is deleted as done.
    a_at_work, b_done = threading.Event(), threading.Event()

    def consume(envelope: Any) -> None:
        if envelope.data.get("fail"):
            raise RuntimeError("outcome unknown")
        if envelope.data.get("slow"):
            a_at_work.set()
            # Batch B runs from start to end while batch A is still at work; a B that never ends fails A here.
            assert b_done.wait(timeout=30), "batch B never finished"

    handler = queue_entry(consume, logger=build_logger("consumer"), metrics=build_metrics("consumer"))
    failing, slow = payment_status_updated(), payment_status_updated()
    failing["detail"]["data"]["fail"] = True
    slow["detail"]["data"]["slow"] = True
    results: dict[str, list[int]] = {}

    def batch_a() -> None:
        results["a"] = deliver(handler, failing, slow)

    a = threading.Thread(target=batch_a)
    a.start()
    assert a_at_work.wait(timeout=30)  # A has failed its first record and waits in its second
    results["b"] = deliver(handler, payment_status_updated())
    b_done.set()
    a.join()
    assert results == {"a": [0], "b": []}


def test_a_batch_consumer_runs_each_record_in_its_own_span_and_reports_only_the_records_that_failed(
    spans: InMemorySpanExporter,
) -> None:
    seen: list[tuple[str, str | None]] = []

    def consume(records: Sequence[QueuedRecord]) -> list[str | Exception]:
        # Each record's work in its own span (its events carry its trace); the answer per record, or its failure.
        seen.extend((r.envelope.event_type, r.trace().traceparent) for r in records)
        return [ValueError("its own fault") if r.envelope.data.get("fail") else "done" for r in records]

    handler = queue_batch_entry(consume, logger=build_logger("consumer"), metrics=build_metrics("consumer"))
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    traced, failing, malformed = (
        payment_status_updated(traceparent=f"00-{trace_id}-b7ad6b7169203331-01"),
        payment_status_updated(),
        payment_status_updated(),
    )
    failing["detail"]["data"]["fail"] = True
    del malformed["detail"]["data"]["payment_order_id"]  # its contract refuses it before consume sees it
    assert deliver(handler, traced, failing, malformed, payment_status_updated()) == [1, 2]
    assert len(seen) == 3  # the malformed record never reached the consumer
    consumers = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert len(consumers) == 3 and consumers[0].context.trace_id == int(trace_id, 16)
    assert seen[0][1] is not None and seen[0][1].split("-")[1] == trace_id  # the record's own trace, not a batch's
    assert seen[0][1].split("-")[2] == f"{consumers[0].context.span_id:016x}"
    assert [s.status.status_code for s in consumers] == [StatusCode.UNSET, StatusCode.ERROR, StatusCode.UNSET]


def test_a_batch_consumer_that_raises_leaves_every_record_for_redelivery() -> None:
    def consume(records: Sequence[QueuedRecord]) -> list[str | Exception]:
        raise RuntimeError("the store is gone")

    handler = queue_batch_entry(consume, logger=build_logger("consumer"), metrics=build_metrics("consumer"))
    assert deliver(handler, payment_status_updated(), payment_status_updated()) == [0, 1]
