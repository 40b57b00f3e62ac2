"""Refunds on the initializer: POST /payments/{id}/refunds through the real entry point on in-memory adapters, the
finalizer's answers through the outcome consumer, and GET /payments/{id} showing both."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from initializer_testdata import get, payment_method_order, post, refund

from initializer.adapters.memory_orders import InMemoryPaymentOrders
from initializer.domain.streams import PUBLISHED_TYPES
from initializer.entrypoints import outcome
from payments_shared.contracts import check_contract
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.relay import integration_envelope
from payments_testing.events import deliver, payment_status_updated, refund_status_updated
from payments_testing.http import MERCHANT_2, OPERATOR_1, json_body


def all_events(store: InMemoryEventStore) -> list[Any]:
    return [e for stream in store._streams.values() for e in stream]


def paid(amount: str = "100.00", status: str = "SUCCESS") -> str:
    """An order of `amount` EUR whose charge the finalizer decided `status`."""
    response = post(payment_method_order(amount=amount), key=f"order-{amount}-{status}")
    assert response["statusCode"] == 201, response["body"]
    order_id = str(json_body(response)["payment_order_id"])
    assert deliver(outcome.handler, payment_status_updated(order_id=order_id, amount=amount, status=status)) == []
    return order_id


def answer(order_id: str, refund_id: str, amount: str, status: str) -> None:
    event = refund_status_updated(order_id, refund_id, status=status, amount=amount)
    assert deliver(outcome.handler, event) == []


def refund_ok(order_id: str, amount: str, key: str) -> str:
    response = refund(order_id, {"amount": amount, "currency": "EUR", "reason": "requested_by_customer"}, key=key)
    assert response["statusCode"] == 201, response["body"]
    body = json_body(response)
    assert (body["amount"], body["status"]) == (amount, "PENDING")
    return str(body["refund_id"])


def test_partial_refunds_up_to_the_payment_then_refused_naming_what_is_left(
    in_memory: InMemoryEventStore, orders: InMemoryPaymentOrders
) -> None:
    order_id = paid("100.00")
    first = refund_ok(order_id, "20.00", key="r1")

    refused = refund(order_id, {"amount": "90.00", "currency": "EUR"}, key="r2")
    problem = json_body(refused)
    assert refused["statusCode"] == 422, problem
    assert problem["type"] == "urn:payments:problem:refund-exceeds-remaining"
    assert problem["errors"] == [{"field": "body.amount", "reason": "at most 80.00 EUR is left to refund"}]

    rest = refund(order_id, {}, key="r3")  # no amount: whatever is left
    assert rest["statusCode"] == 201 and json_body(rest)["amount"] == "80.00"
    nothing_left = refund(order_id, {"amount": "0.01", "currency": "EUR"}, key="r4")
    assert nothing_left["statusCode"] == 422 and "nothing left to refund" in json_body(nothing_left)["detail"]

    published = [e for e in all_events(in_memory) if e.event_type == "RefundRequested"]
    assert [e.data["amount_minor"] for e in published] == [2000, 8000]
    envelope = integration_envelope(published[0], PUBLISHED_TYPES["RefundRequested"])
    check_contract(envelope)
    assert "request_fingerprint" not in envelope.data  # the initializer's own bookkeeping stays home
    assert first == published[0].data["refund_id"]


def test_the_status_says_how_much_refunds_took_and_a_failed_refund_gives_its_amount_back(
    in_memory: InMemoryEventStore,
) -> None:
    order_id = paid("100.00")
    first = refund_ok(order_id, "20.00", key="r1")
    assert json_body(get(order_id))["status"] == "SUCCESS"  # asked, not taken yet

    answer(order_id, first, "20.00", "SUCCEEDED")
    shown = json_body(get(order_id))
    assert (shown["status"], shown["amount_refunded"]) == ("PARTIALLY_REFUNDED", "20.00")
    assert [(r["refund_id"], r["status"]) for r in shown["refunds"]] == [(first, "SUCCEEDED")]

    second = refund_ok(order_id, "80.00", key="r2")
    answer(order_id, second, "80.00", "FAILED")
    assert json_body(get(order_id))["status"] == "PARTIALLY_REFUNDED"
    third = refund_ok(order_id, "80.00", key="r3")  # the failed refund's 80.00 is refundable again
    answer(order_id, third, "80.00", "SUCCEEDED")
    shown = json_body(get(order_id))
    assert (shown["status"], shown["amount_refunded"]) == ("REFUNDED", "100.00")

    answer(order_id, third, "80.00", "REVERSED")  # failed at the card network: the money is the merchant's again
    shown = json_body(get(order_id))
    assert (shown["status"], shown["amount_refunded"]) == ("PARTIALLY_REFUNDED", "20.00")
    assert [r["status"] for r in shown["refunds"]] == ["SUCCEEDED", "FAILED", "REVERSED"]


def test_late_and_duplicate_answers_change_nothing(in_memory: InMemoryEventStore) -> None:
    order_id = paid("50.00")
    refund_id = refund_ok(order_id, "50.00", key="r1")
    succeeded = refund_status_updated(order_id, refund_id, status="SUCCEEDED", amount="50.00")
    assert deliver(outcome.handler, succeeded, succeeded) == []
    answer(order_id, refund_id, "50.00", "FAILED")  # too late: the PSP took it
    shown = json_body(get(order_id))
    assert (shown["status"], [r["status"] for r in shown["refunds"]]) == ("REFUNDED", ["SUCCEEDED"])
    recorded = [e for e in all_events(in_memory) if e.event_type == "RefundOutcomeRecorded"]
    assert len(recorded) == 1


def test_a_retry_under_the_same_key_returns_the_same_refund_and_another_body_is_refused(
    in_memory: InMemoryEventStore,
) -> None:
    order_id = paid("30.00")
    body = {"amount": "10.00", "currency": "EUR"}
    first, again = refund(order_id, body, key="same"), refund(order_id, body, key="same")
    assert first["statusCode"] == again["statusCode"] == 201
    assert json_body(first)["refund_id"] == json_body(again)["refund_id"]
    assert len([e for e in all_events(in_memory) if e.event_type == "RefundRequested"]) == 1

    reused = refund(order_id, {"amount": "11.00", "currency": "EUR"}, key="same")
    assert reused["statusCode"] == 422
    assert json_body(reused)["type"] == "urn:payments:problem:idempotency-key-reused"


def test_refusals_name_the_field_and_write_nothing(in_memory: InMemoryEventStore) -> None:
    order_id = paid("30.00")
    before = len(all_events(in_memory))
    cases = {
        "missing key": (refund(order_id, {}, key=None), 400, "header.idempotency-key"),
        "zero": (refund(order_id, {"amount": "0.00", "currency": "EUR"}), 400, "body.amount"),
        "negative": (refund(order_id, {"amount": "-1.00", "currency": "EUR"}), 400, "body.amount"),
        "too precise": (refund(order_id, {"amount": "1.001", "currency": "EUR"}), 400, "body.amount"),
        "amount alone": (refund(order_id, {"amount": "1.00"}), 400, "body"),
        "unknown reason": (refund(order_id, {"reason": "changed_my_mind"}), 400, "body.reason"),
        "unknown field": (refund(order_id, {"amount_minor": 100}), 400, "body.amount_minor"),
        "other currency": (refund(order_id, {"amount": "1.00", "currency": "USD"}), 422, "body.currency"),
    }
    for name, (response, status, field) in cases.items():
        problem = json_body(response)
        assert response["statusCode"] == status, (name, problem)
        assert field in [e["field"] for e in problem.get("errors", [])], (name, problem)
    assert len(all_events(in_memory)) == before


def test_only_a_successful_payment_of_ones_own_is_refunded(in_memory: InMemoryEventStore) -> None:
    failed = paid("30.00", status="FAILED")
    response = refund(failed, {})
    assert response["statusCode"] == 409
    assert json_body(response)["type"] == "urn:payments:problem:payment-not-refundable"

    order_id = paid("30.00")
    other = refund(order_id, {}, caller=MERCHANT_2)  # another merchant's payment: not even disclosed
    assert other["statusCode"] == 404 and json_body(other)["type"] == "urn:payments:problem:payment-not-found"
    assert refund(PAYMENT_UNKNOWN, {})["statusCode"] == 404
    assert refund(order_id, {}, caller=OPERATOR_1)["statusCode"] == 201  # support refunds on a merchant's behalf
    assert [e.data["merchant_id"] for e in all_events(in_memory) if e.event_type == "RefundRequested"] == ["merchant-1"]


PAYMENT_UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_a_refund_answer_is_no_time_to_final_status(runtime: ModuleType, in_memory: InMemoryEventStore) -> None:
    order_id = paid("30.00")
    refund_id = refund_ok(order_id, "30.00", key="r1")
    recorded: list[str] = []
    original = outcome.metrics.add_metric
    outcome.metrics.add_metric = lambda name, **kwargs: recorded.append(name)  # type: ignore[method-assign]
    try:
        answer(order_id, refund_id, "30.00", "SUCCEEDED")
    finally:
        outcome.metrics.add_metric = original  # type: ignore[method-assign]
    assert "TimeToFinalStatus" not in recorded
