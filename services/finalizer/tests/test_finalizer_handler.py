"""The finalizer's handler in-process: in-memory event store, the Stripe adapter on the fake PSP over loopback."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import pytest
from fake_psp import FakePsp
from fake_psp.balance import card_fee
from finalizer_testdata import APPROVED_CARD, DECLINED_CARD, payment_initiated
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.adapters.stripe_psp import StripePsp
from finalizer.entrypoints import charge
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.events import deliver


def order_id_of(event: dict[str, Any]) -> str:
    return str(event["detail"]["data"]["payment_order_id"])


def recorded(store: InMemoryEventStore, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, dict(e.data)) for e in store.load(f"payment-{order_id_of(event)}").events]


def test_approval_records_success_and_the_results_row(
    runtime: ModuleType, store: InMemoryEventStore, results: InMemoryPaymentResults, psp: FakePsp
) -> None:
    event = payment_initiated()
    assert deliver(charge.handler, event) == []
    [(event_type, data)] = recorded(store, event)
    assert event_type == "PaymentSucceeded" and data["status"] == "SUCCESS" and data["error_message"] is None
    assert (data["amount"], data["currency"], data["merchant_id"]) == ("12.34", "EUR", "merchant-1")
    row = results.result(order_id_of(event))
    assert row is not None and row["payment_status"] == "SUCCESS" and row["amount"] == "12.34"
    assert psp.charges[order_id_of(event)] == 1 and psp.intents[order_id_of(event)] == 1
    assert data["psp_reference"] == row["psp_reference"] and psp.intent(data["psp_reference"])["status"] == "succeeded"
    assert psp.card_numbers_seen[APPROVED_CARD] == 1  # the sealed card was opened for the PSP call
    # Stripe's fee, read from the charge's balance transaction expanded in the create's own answer: one request.
    assert data["psp_fee_minor"] == card_fee(1234, 290, 30) == 66 and psp.requests[order_id_of(event)] == 1


def test_duplicate_and_replayed_deliveries_charge_once(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated()
    for _ in range(3):
        assert deliver(charge.handler, event) == []
    assert psp.charges[order_id_of(event)] == 1 and psp.requests[order_id_of(event)] == 1
    assert len(recorded(store, event)) == 1


def test_concurrent_duplicate_deliveries_charge_once_and_record_once(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, spans: InMemorySpanExporter
) -> None:
    event, barrier = payment_initiated(), threading.Barrier(5, timeout=30)

    def deliver_once() -> list[int]:
        barrier.wait()
        return deliver(charge.handler, event)

    with ThreadPoolExecutor(5) as pool:
        deliveries = [pool.submit(deliver_once) for _ in range(5)]
    outcomes = [delivery.result() for delivery in deliveries]  # a delivery's exception is raised here
    # The losers of the race record nothing and answer with the winner's decision. The one excuse to report a
    # duplicate instead: its SDK retries all found the first request still running at Stripe (409), so its
    # outcome is unknown; the queue redelivers it, and the redelivery finds the decision.
    failed = {
        s.status.description
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.CONSUMER and s.status.status_code == StatusCode.ERROR
    }
    assert failed <= {"PspOutcomeUnknown"}, failed
    for reported in [outcome for outcome in outcomes if outcome]:
        assert reported == [0] and deliver(charge.handler, event) == []
    assert psp.charges[order_id_of(event)] == 1 and psp.intents[order_id_of(event)] == 1
    assert [t for t, _ in recorded(store, event)] == ["PaymentSucceeded"]


def test_response_lost_after_the_charge_is_answered_by_the_replay_without_a_second_intent(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated()
    psp.script(order_id_of(event), ["lost"])
    assert deliver(charge.handler, event) == []
    assert psp.requests[order_id_of(event)] == 2  # the SDK's retry with the same key got the stored answer
    assert psp.intents[order_id_of(event)] == 1 and psp.charges[order_id_of(event)] == 1
    assert recorded(store, event)[0][1]["status"] == "SUCCESS"


def test_decline_records_failed_with_stripes_decline_code_and_message(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = payment_initiated(DECLINED_CARD)
    assert deliver(charge.handler, event) == []
    [(event_type, data)] = recorded(store, event)
    assert event_type == "PaymentFailed" and data["status"] == "FAILED"
    assert data["decline_code"] == "insufficient_funds"
    assert data["error_message"] == "insufficient_funds: Your card has insufficient funds."
    assert psp.charges[order_id_of(event)] == 0


@pytest.mark.parametrize("fault", ["timeout", "lost", "503"])
def test_unknown_outcome_is_reported_and_writes_nothing_then_a_retry_finishes_once(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, fault: str
) -> None:
    event = payment_initiated()
    psp.script(order_id_of(event), [fault] * 3)  # every attempt of the SDK fails
    assert deliver(charge.handler, event) == [0]  # reported: redelivered, then the DLQ
    assert recorded(store, event) == []
    assert deliver(charge.handler, event) == []  # the queue's redelivery
    assert psp.intents[order_id_of(event)] == 1 and psp.charges[order_id_of(event)] == 1
    assert recorded(store, event)[0][1]["status"] == "SUCCESS"


def test_a_crash_between_charge_and_record_is_recovered_by_the_redelivery_with_one_intent(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, real_append = payment_initiated(), store.append

    def crash(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(store, "append", real_append)
        raise SystemError("the function died after the PSP answered")

    monkeypatch.setattr(store, "append", crash)
    assert deliver(charge.handler, event) == [0]
    assert psp.charges[order_id_of(event)] == 1 and recorded(store, event) == []
    assert deliver(charge.handler, event) == []  # redelivered: Stripe replays the first answer
    assert psp.requests[order_id_of(event)] == 2 and psp.intents[order_id_of(event)] == 1
    assert psp.charges[order_id_of(event)] == 1 and recorded(store, event)[0][1]["status"] == "SUCCESS"


def test_a_refused_request_is_reported_not_failed(runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp) -> None:
    # Our key no longer valid (rotated elsewhere): not the buyer's fault.
    runtime.container.psp.override(StripePsp(lambda: "sk_test_revoked", api_base=psp.url))
    event = payment_initiated()
    assert deliver(charge.handler, event) == [0]
    assert recorded(store, event) == [] and sum(psp.intents.values()) == 0


def test_details_sealed_for_another_order_are_never_charged(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    other = payment_initiated()
    event = payment_initiated(payment_details=other["detail"]["data"]["payment_details"])
    assert deliver(charge.handler, event) == [0]
    assert sum(psp.requests.values()) == 0 and recorded(store, event) == []


@pytest.mark.parametrize(
    "broken",
    [
        {"amount": "12.3"},
        {"amount_minor": -1, "amount": "-0.01"},
        {"currency": "XXX"},
        {"payment_order_id": "nope"},
        {"card": {"brand": "visa"}},
        {"payment_details": ""},
    ],
)
def test_malformed_event_is_reported_and_nothing_is_charged_or_written(
    runtime: ModuleType,
    store: InMemoryEventStore,
    results: InMemoryPaymentResults,
    psp: FakePsp,
    broken: dict[str, Any],
) -> None:
    event = payment_initiated(**broken)
    assert deliver(charge.handler, event) == [0]  # reported: redelivered, then the DLQ
    assert sum(psp.requests.values()) == 0 and results.all() == []


def test_missing_detail_is_reported(runtime: ModuleType, store: InMemoryEventStore) -> None:
    event = payment_initiated()
    del event["detail"]["data"]
    assert deliver(charge.handler, event) == [0]  # reported: redelivered, then the DLQ


def test_psp_call_is_a_client_span_in_the_incoming_trace_without_card_data(
    runtime: ModuleType, store: InMemoryEventStore, spans: InMemorySpanExporter
) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    event = payment_initiated(DECLINED_CARD, traceparent=f"00-{trace_id}-b7ad6b7169203331-01")
    assert deliver(charge.handler, event) == []
    finished = spans.get_finished_spans()
    consumer = next(s for s in finished if s.kind == SpanKind.CONSUMER)
    psp_charge = next(s for s in finished if s.name == "psp charge")
    http = next(s for s in finished if s.kind == SpanKind.CLIENT and s.name == "POST /v1/payment_intents")
    assert {f"{s.context.trace_id:032x}" for s in (consumer, psp_charge, http)} == {trace_id}
    assert http.parent is not None and http.parent.span_id == psp_charge.context.span_id
    assert dict(psp_charge.attributes or {}) | {"psp.reference": "-"} == {
        "payment.order_id": order_id_of(event),
        "payment.amount_minor": 1234,
        "payment.currency": "EUR",
        "peer.service": "stripe",
        "payment.outcome": "DECLINED",
        "psp.decline_code": "insufficient_funds",
        "psp.reference": "-",
    }
    assert http.attributes is not None and http.attributes["http.response.status_code"] == 402
    assert all(DECLINED_CARD not in str(dict(s.attributes or {})) for s in finished)
    stored = store.load(f"payment-{order_id_of(event)}").events[0]
    assert stored.trace.traceparent is not None and trace_id in stored.trace.traceparent


@pytest.mark.parametrize(("token", "status"), [("pm_card_visa", "SUCCESS"), ("pm_card_chargeDeclined", "FAILED")])
def test_a_payment_method_is_charged_by_its_id_with_no_card_opened_or_sent(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, token: str, status: str
) -> None:
    event = payment_initiated(payment_method=token, card=None, payment_details=None)
    assert deliver(charge.handler, event) == []
    [(_, data)] = recorded(store, event)
    assert data["status"] == status and psp.intent(data["psp_reference"])["payment_method"] == token
    assert not psp.card_numbers_seen


@pytest.mark.parametrize(
    "ways",
    [
        {"payment_method": "pm_card_visa"},  # a card and a payment method: which one to charge?
        {"payment_method": None, "payment_details": None, "card": None},  # nothing to charge
        {"payment_method": "4242424242424242", "payment_details": None, "card": None},  # not a PaymentMethod id
    ],
)
def test_an_event_without_exactly_one_way_to_pay_is_reported_and_never_charged(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, ways: dict[str, Any]
) -> None:
    event = payment_initiated(**ways)
    assert deliver(charge.handler, event) == [0]
    assert sum(psp.requests.values()) == 0 and recorded(store, event) == []
