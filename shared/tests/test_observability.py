"""Tracing across a publish → consume hop, the root-span error rule, log correlation and redaction."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from payments_shared.cards import luhn_valid
from payments_shared.eventstore import NewEvent
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.relay import OutboxRelay
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import build_metrics
from payments_shared.observability.propagation import current_trace_context
from payments_shared.observability.redaction import REDACTED, redact
from payments_shared.observability.tracing import tracer
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, payment_status_updated

CARD = "4111111111111111"


class CapturingEvents:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}


def as_delivered(entry: dict[str, Any]) -> dict[str, Any]:
    """What EventBridge hands a Lambda target for a PutEvents entry."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": "2026-11-25T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


def test_trace_continues_from_request_through_publish_to_consumer(spans: InMemorySpanExporter) -> None:
    store, events = InMemoryEventStore(), CapturingEvents()
    with tracer().start_as_current_span("POST /payments", kind=SpanKind.SERVER) as request_span:
        stored = store.append("payment-1", 0, [NewEvent("OrderNoted", {"a": 1}, "c-1", trace=current_trace_context())])
    relay = OutboxRelay(events, "bus", "payments.test")
    relay.publish([relay._prepare("1", stored[0])])

    seen: list[str] = []
    logger, metrics = build_logger("consumer"), build_metrics("consumer")
    handler = queue_entry(lambda env: seen.append(env.event_type), logger=logger, metrics=metrics)
    assert deliver(handler, as_delivered(events.entries[0])) == []

    trace_id = request_span.get_span_context().trace_id
    by_name = {s.name: s for s in spans.get_finished_spans()}
    producer, consumer = by_name["OrderNoted publish"], by_name["OrderNoted process"]
    assert seen == ["OrderNoted"]
    assert producer.kind == SpanKind.PRODUCER and consumer.kind == SpanKind.CONSUMER
    assert producer.context.trace_id == consumer.context.trace_id == trace_id
    assert producer.parent is not None and producer.parent.span_id == request_span.get_span_context().span_id
    assert consumer.parent is not None and consumer.parent.span_id == producer.context.span_id


def test_a_failing_record_marks_its_root_span_and_only_it_is_reported(spans: InMemorySpanExporter) -> None:
    processed: list[str] = []

    def consume(envelope: Any) -> None:
        if envelope.correlation_id == "bad":
            with tracer().start_as_current_span("child"):
                raise RuntimeError("ledger unavailable")
        processed.append(envelope.correlation_id)

    events = CapturingEvents()
    store = InMemoryEventStore()
    relay = OutboxRelay(events, "bus", "payments.test")
    for n, correlation in enumerate(["ok-1", "bad", "ok-2"]):
        stored = store.append(f"p-{n}", 0, [NewEvent("OutcomeNoted", {}, correlation)])
        relay.publish([relay._prepare(str(n), stored[0])])
    handler = queue_entry(consume, logger=build_logger("c"), metrics=build_metrics("c"))
    assert deliver(handler, *[as_delivered(entry) for entry in events.entries]) == [1]
    assert processed == ["ok-1", "ok-2"]  # the neighbours ran once, and are not reported for redelivery
    roots = [s for s in spans.get_finished_spans() if s.name == "OutcomeNoted process"]
    failed = [s for s in roots if s.status.status_code == StatusCode.ERROR]
    assert len(roots) == 3 and len(failed) == 1
    assert any(e.name == "exception" for e in failed[0].events)


def test_a_malformed_record_is_reported_before_anything_runs(spans: InMemorySpanExporter) -> None:
    called: list[Any] = []
    handler = queue_entry(called.append, logger=build_logger("c"), metrics=build_metrics("c"))
    bad = as_delivered({"DetailType": "X", "Source": "s", "Detail": json.dumps({"event_type": "X"})})
    assert deliver(handler, bad) == [0]
    assert called == []


def test_an_event_breaking_its_contract_fails_its_record_before_anything_runs_and_says_where(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    called: list[Any] = []
    handler = queue_entry(called.append, logger=build_logger("contract-consumer"), metrics=build_metrics("c"))
    event = payment_status_updated(status="SUCCESS")
    event["detail"]["data"]["status"] = "MAYBE"
    event["detail"]["data"]["merchant_id"] = CARD  # a value that must never reach the log
    del event["detail"]["data"]["amount_minor"]
    assert deliver(handler, event, payment_status_updated()) == [0]  # only the broken one comes back
    assert len(called) == 1
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "refused by its contract" in x]
    assert {f.split(":")[0] for f in line["fields"]} == {"amount_minor", "status"}
    assert CARD not in json.dumps(line)


def test_log_lines_carry_trace_ids_the_dt_prefix_and_no_card_data(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = build_logger("svc")
    with tracer().start_as_current_span("op") as span:
        logger.info(
            f"charging card {CARD} cvv 123",
            extra={"card_number": CARD, "cvv": "123", "note": "pan 4111-1111-1111-1111 end"},
        )
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ctx = span.get_span_context()
    trace_id, span_id = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    assert (line["trace_id"], line["span_id"]) == (trace_id, span_id)
    assert line["message"].startswith(f"[!dt dt.trace_id={trace_id},dt.span_id={span_id}] ")
    assert line["card_number"] == line["cvv"] == REDACTED
    text = json.dumps(line)
    assert CARD not in text and "4111-1111-1111-1111" not in text
    assert line["service"] == "svc" and line["level"] == "INFO"


def test_exceptions_and_appended_keys_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    # Only the keys Powertools and the runtime write are trusted unscanned; whatever came from input is not.
    logger = build_logger("svc-exception")
    logger.append_keys(reference=f"ref {CARD}")
    try:
        raise ValueError(f"bad card {CARD}")
    except ValueError:
        logger.exception("charge failed")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "bad card" in line["exception"] and line["reference"].startswith("ref ")
    assert CARD not in json.dumps(line)


def test_a_handlers_lines_name_its_function_and_request_but_not_the_contexts_constants(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = build_logger("svc-context")
    logger.inject_lambda_context(lambda event, context: logger.info("handled"))({}, LambdaContext())
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["function_name"], line["function_request_id"]) == ("test-function", LambdaContext.aws_request_id)
    assert "cold_start" in line
    assert not {"function_arn", "function_memory_size"} & line.keys()


def test_log_without_a_span_has_no_trace_fields(capsys: pytest.CaptureFixture[str]) -> None:
    build_logger("svc-no-span").info("plain")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["message"] == "plain" and "trace_id" not in line


def luhn_complete(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


@given(st.text(alphabet="0123456789", min_size=12, max_size=18), st.sampled_from(["", " ", "-"]))
def test_any_luhn_valid_card_number_is_redacted_in_any_grouping(prefix: str, sep: str) -> None:
    pan = luhn_complete(prefix)
    grouped = sep.join(pan[i : i + 4] for i in range(0, len(pan), 4))
    out = redact({"msg": f"x {grouped} y", "nested": [{"text": grouped}]})
    assert grouped not in json.dumps(out) and out["msg"] == f"x {REDACTED} y"


def test_numbers_that_are_not_card_numbers_are_kept() -> None:
    assert redact("order 4111111111111112 total 1234") == "order 4111111111111112 total 1234"


def test_powertools_logger_writes_through_the_std_logging_tree() -> None:
    # Guard: the redacting formatter must be the one installed on the Powertools handler.
    logger = build_logger("guard")
    handlers = logging.getLogger("guard").handlers
    assert handlers and all(type(h.formatter).__name__ == "TraceCorrelatedFormatter" for h in handlers)
    assert logger.service == "guard"
