"""The finalizer's handler in-process: in-memory event store, the fake PSP over real HTTP on loopback."""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

import pytest
from fake_psp import FakePsp
from finalizer_testdata import DECLINED_LAST4, payment_initiated
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.events import deliver


def order_id_of(event: dict[str, Any]) -> str:
    return str(event["detail"]["data"]["payment_order_id"])


def recorded(store: InMemoryEventStore, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, dict(e.data)) for e in store.load(f"payment-{order_id_of(event)}").events]


def test_approval_records_success_and_the_results_row(
    handler_module: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated()
    assert deliver(handler_module.handler, event) == []
    [(event_type, data)] = recorded(store, event)
    assert event_type == "PaymentSucceeded" and data["status"] == "SUCCESS" and data["error_message"] is None
    assert (data["amount"], data["currency"], data["merchant_id"]) == ("12.34", "EUR", "merchant-1")
    row = store.get_record("BreakingTheBank", {"payment_order_id": order_id_of(event)})
    assert row is not None and row["payment_status"] == "SUCCESS" and row["amount"] == "12.34"
    assert psp.charges[order_id_of(event)] == 1


def test_duplicate_and_replayed_deliveries_charge_once(
    handler_module: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated()
    for _ in range(3):
        assert deliver(handler_module.handler, event) == []
    assert psp.charges[order_id_of(event)] == 1 and psp.requests[order_id_of(event)] == 1
    assert len(recorded(store, event)) == 1


def test_concurrent_duplicate_deliveries_charge_once_and_record_once(
    handler_module: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event, barrier = payment_initiated(), threading.Barrier(5)

    def deliver_once() -> None:
        barrier.wait()
        assert deliver(handler_module.handler, event) == []

    threads = [threading.Thread(target=deliver_once) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert psp.charges[order_id_of(event)] == 1
    assert [t for t, _ in recorded(store, event)] == ["PaymentSucceeded"]


def test_503_twice_then_approval_succeeds_after_three_calls(
    handler_module: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated()
    psp.script(order_id_of(event), ["503", "503"])
    assert deliver(handler_module.handler, event) == []
    assert psp.requests[order_id_of(event)] == 3 and psp.charges[order_id_of(event)] == 1
    assert recorded(store, event)[0][1]["status"] == "SUCCESS"


def test_response_lost_after_charge_is_resolved_by_status_query_without_recharging(
    handler_module: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated()
    psp.script(order_id_of(event), ["lost"])
    assert deliver(handler_module.handler, event) == []
    assert psp.requests[order_id_of(event)] == 1  # the status query answered; no second POST
    assert psp.charges[order_id_of(event)] == 1
    assert recorded(store, event)[0][1]["status"] == "SUCCESS"


def test_decline_records_failed_with_the_psp_message(
    handler_module: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated(last4=DECLINED_LAST4)
    assert deliver(handler_module.handler, event) == []
    [(event_type, data)] = recorded(store, event)
    assert event_type == "PaymentFailed" and data["status"] == "FAILED"
    assert data["error_message"] == "insufficient funds"
    assert psp.charges[order_id_of(event)] == 0


def test_unknown_outcome_is_reported_and_writes_nothing_then_a_retry_finishes_once(
    handler_module: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated()
    psp.script(order_id_of(event), ["timeout", "timeout", "timeout"])
    assert deliver(handler_module.handler, event) == [0]  # reported: redelivered, then the DLQ
    assert recorded(store, event) == []
    assert deliver(handler_module.handler, event) == []  # the queue's redelivery
    assert psp.charges[order_id_of(event)] == 1
    assert recorded(store, event)[0][1]["status"] == "SUCCESS"


@pytest.mark.parametrize(
    "broken",
    [{"amount": "12.3"}, {"amount_minor": -1, "amount": "-0.01"}, {"currency": "XXX"},
     {"payment_order_id": "nope"}, {"card": {"brand": "visa"}}],
)  # fmt: skip
def test_malformed_event_is_reported_and_nothing_is_charged_or_written(
    handler_module: ModuleType, store: InMemoryEventStore, psp: FakePsp, broken: dict[str, Any]
) -> None:
    event = payment_initiated(**broken)
    assert deliver(handler_module.handler, event) == [0]  # reported: redelivered, then the DLQ
    assert sum(psp.requests.values()) == 0 and store.records("BreakingTheBank") == []


def test_missing_detail_is_reported(handler_module: ModuleType, store: InMemoryEventStore) -> None:
    event = payment_initiated()
    del event["detail"]["data"]
    assert deliver(handler_module.handler, event) == [0]  # reported: redelivered, then the DLQ


def test_psp_call_is_a_client_span_in_the_incoming_trace(
    handler_module: ModuleType, store: InMemoryEventStore, spans: InMemorySpanExporter
) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    event = payment_initiated(traceparent=f"00-{trace_id}-b7ad6b7169203331-01")
    assert deliver(handler_module.handler, event) == []
    finished = spans.get_finished_spans()
    consumer = next(s for s in finished if s.kind == SpanKind.CONSUMER)
    client = next(s for s in finished if s.kind == SpanKind.CLIENT and s.name == "POST /charges")
    assert f"{consumer.context.trace_id:032x}" == f"{client.context.trace_id:032x}" == trace_id
    assert client.attributes is not None and client.attributes["http.response.status_code"] == 201
    assert client.attributes["http.request.method"] == "POST" and client.attributes["server.address"] == "127.0.0.1"
    stored = store.load(f"payment-{order_id_of(event)}").events[0]
    assert stored.trace.traceparent is not None and trace_id in stored.trace.traceparent
