"""Disputes on the initializer: the finalizer's DisputeStatusUpdated through the outcome consumer on in-memory
adapters, and GET /payments/{id} showing them (given events, then what the merchant reads)."""

from __future__ import annotations

from typing import Any

from initializer_testdata import get, payment_method_order, post, refund

from initializer.entrypoints import outcome
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.events import deliver, dispute_status_updated, payment_status_updated, refund_status_updated
from payments_testing.http import json_body


def paid(amount: str = "100.00") -> str:
    response = post(payment_method_order(amount=amount), key=f"order-{amount}")
    assert response["statusCode"] == 201, response["body"]
    order_id = str(json_body(response)["payment_order_id"])
    assert deliver(outcome.handler, payment_status_updated(order_id=order_id, amount=amount, status="SUCCESS")) == []
    return order_id


def dispute(order_id: str, status: str, dispute_id: str = "dp_1", event_id: str | None = None) -> None:
    event = dispute_status_updated(order_id, dispute_id, status=status, amount_minor=4000, event_id=event_id)
    assert deliver(outcome.handler, event) == []


def shown(order_id: str) -> dict[str, Any]:
    response = get(order_id)
    assert response["statusCode"] == 200, response["body"]
    return dict(json_body(response))


def recorded(store: InMemoryEventStore) -> list[str]:
    return [e.event_type for stream in store._streams.values() for e in stream if e.event_type.startswith("Dispute")]


def test_an_opened_dispute_shows_disputed_then_a_won_one_shows_the_payment_again(in_memory: InMemoryEventStore) -> None:
    order_id = paid("100.00")
    dispute(order_id, "OPENED")
    body = shown(order_id)
    assert body["status"] == "DISPUTED"
    assert body["disputes"] == [
        {
            "dispute_id": "dp_1",
            "amount": "40.00",
            "currency": "EUR",
            "fee": "15.00",
            "status": "OPENED",
            "reason": "fraudulent",
        }
    ]
    dispute(order_id, "WON")
    body = shown(order_id)
    assert (body["status"], [d["status"] for d in body["disputes"]]) == ("SUCCESS", ["WON"])
    assert recorded(in_memory) == ["DisputeStatusRecorded", "DisputeStatusRecorded"]


def test_a_lost_dispute_no_longer_shows_disputed_and_a_refunded_payment_shows_its_refund_again(
    in_memory: InMemoryEventStore,
) -> None:
    order_id = paid("100.00")
    taken = refund(order_id, {"amount": "10.00", "currency": "EUR"}, key="r1")
    assert taken["statusCode"] == 201, taken["body"]
    refund_id = json_body(taken)["refund_id"]
    answer = refund_status_updated(order_id, refund_id, status="SUCCEEDED", amount="10.00")
    assert deliver(outcome.handler, answer) == []
    dispute(order_id, "OPENED")
    assert shown(order_id)["status"] == "DISPUTED"  # an open dispute wins over PARTIALLY_REFUNDED
    dispute(order_id, "LOST")
    body = shown(order_id)
    assert (body["status"], body["disputes"][0]["status"]) == ("PARTIALLY_REFUNDED", "LOST")


def test_the_same_event_twice_or_two_events_for_one_status_record_it_once(in_memory: InMemoryEventStore) -> None:
    order_id = paid("100.00")
    dispute(order_id, "OPENED", event_id="11111111-1111-4111-8111-111111111111")
    dispute(order_id, "OPENED", event_id="11111111-1111-4111-8111-111111111111")  # a redelivery
    dispute(order_id, "OPENED")  # another event for the same status
    dispute(order_id, "LOST")
    dispute(order_id, "LOST")
    body = shown(order_id)
    assert [(d["dispute_id"], d["status"]) for d in body["disputes"]] == [("dp_1", "LOST")]
    assert recorded(in_memory) == ["DisputeStatusRecorded", "DisputeStatusRecorded"]


def test_only_forward_a_close_seen_first_is_recorded_and_a_late_opened_changes_nothing(
    in_memory: InMemoryEventStore,
) -> None:
    order_id = paid("100.00")
    dispute(order_id, "WON")  # the close overtook the opening on the bus
    dispute(order_id, "OPENED")
    dispute(order_id, "LOST")  # a closed dispute never moves
    body = shown(order_id)
    assert (body["status"], [d["status"] for d in body["disputes"]]) == ("SUCCESS", ["WON"])
    assert recorded(in_memory) == ["DisputeStatusRecorded"]


def test_two_disputes_show_disputed_while_either_is_open(in_memory: InMemoryEventStore) -> None:
    order_id = paid("100.00")
    dispute(order_id, "OPENED", dispute_id="dp_1")
    dispute(order_id, "OPENED", dispute_id="dp_2")
    dispute(order_id, "WON", dispute_id="dp_1")
    body = shown(order_id)
    assert body["status"] == "DISPUTED"
    assert [(d["dispute_id"], d["status"]) for d in body["disputes"]] == [("dp_1", "WON"), ("dp_2", "OPENED")]
    dispute(order_id, "LOST", dispute_id="dp_2")
    assert shown(order_id)["status"] == "SUCCESS"


def refunds_recorded(store: InMemoryEventStore) -> list[str]:
    return [e.event_type for stream in store._streams.values() for e in stream if e.event_type.startswith("Refund")]


def test_a_refund_while_a_dispute_is_open_is_a_409_naming_it_and_nothing_is_written(
    in_memory: InMemoryEventStore,
) -> None:
    # Stripe refuses to refund a charged-back charge (charge_disputed: "The charge you're attempting to refund has
    # been charged back", docs.stripe.com/error-codes): the merchant answers the dispute instead.
    order_id = paid("100.00")
    dispute(order_id, "OPENED", dispute_id="dp_open")
    refused = refund(order_id, {"amount": "10.00", "currency": "EUR"}, key="r-disputed")
    problem = json_body(refused)
    assert refused["statusCode"] == 409
    assert problem["type"] == "urn:payments:problem:payment-disputed" and "dp_open" in problem["detail"]
    assert refunds_recorded(in_memory) == [] and shown(order_id)["refunds"] == []
    assert refund(order_id, None, key="r-whole")["statusCode"] == 409  # the whole rest: refused alike


def test_a_refund_asked_before_the_dispute_opened_is_answered_again_under_its_key(
    in_memory: InMemoryEventStore,
) -> None:
    order_id = paid("100.00")
    first = refund(order_id, {"amount": "10.00", "currency": "EUR"}, key="r-early")
    assert first["statusCode"] == 201, first["body"]
    dispute(order_id, "OPENED")
    again = refund(order_id, {"amount": "10.00", "currency": "EUR"}, key="r-early")
    assert again["statusCode"] == 201 and json_body(again)["refund_id"] == json_body(first)["refund_id"]
    assert refunds_recorded(in_memory) == ["RefundRequested"]


def test_once_the_dispute_is_closed_the_payment_is_refundable_again_by_us(in_memory: InMemoryEventStore) -> None:
    # Whether Stripe then takes the refund is Stripe's to say: a refusal comes back as a FAILED refund.
    order_id = paid("100.00")
    dispute(order_id, "OPENED")
    dispute(order_id, "WON")
    assert refund(order_id, {"amount": "10.00", "currency": "EUR"}, key="r-after")["statusCode"] == 201
