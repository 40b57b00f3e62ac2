"""Manual capture on the initializer: POST /payments with capture_method manual, the finalizer's AUTHORIZED, then
POST /payments/{id}/capture or /cancel through the real entry point on in-memory adapters, the finalizer's
answers through the outcome consumer, and GET /payments/{id} showing them. Stripe: a PaymentIntent created with
capture_method=manual stops at requires_capture; it is then captured (amount_to_capture at most the amount
capturable; the rest is released) or canceled (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method).
"""

from __future__ import annotations

from typing import Any

from initializer_testdata import cancel, capture, get, payment_method_order, post, refund

from initializer.domain.streams import PUBLISHED_TYPES
from initializer.entrypoints import outcome
from payments_shared.contracts import check_contract
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.relay import integration_envelope
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import MERCHANT_2, OPERATOR_1, json_body

PAYMENT_UNKNOWN = "00000000-0000-4000-8000-000000000000"


def all_events(store: InMemoryEventStore) -> list[Any]:
    return [e for stream in store._streams.values() for e in stream]


def published(store: InMemoryEventStore, event_type: str) -> list[Any]:
    return [e for e in all_events(store) if e.event_type == event_type]


def status_event(order_id: str, status: str, amount: str, authorized: str | None = None) -> dict[str, Any]:
    """The finalizer's PaymentStatusUpdated; after a manual capture it carries what was authorized."""
    event = payment_status_updated(order_id=order_id, amount=amount, status=status)
    if authorized is not None:
        event["detail"]["data"]["amount_authorized_minor"] = int(authorized.replace(".", ""))
    if status != "FAILED":
        event["detail"]["data"]["error_message"] = None
    return event


def tell(order_id: str, status: str, amount: str, authorized: str | None = None) -> None:
    assert deliver(outcome.handler, status_event(order_id, status, amount, authorized)) == []


def authorized(amount: str = "100.00", key: str = "order") -> str:
    """A manual-capture order of `amount` EUR the finalizer reported AUTHORIZED (Stripe's requires_capture)."""
    response = post(payment_method_order(amount=amount, capture_method="manual"), key=key)
    assert response["statusCode"] == 201, response["body"]
    order_id = str(json_body(response)["payment_order_id"])
    tell(order_id, "AUTHORIZED", amount)
    return order_id


def test_a_manual_order_is_published_as_such_and_shown_authorized(in_memory: InMemoryEventStore) -> None:
    automatic = post(payment_method_order(amount="10.00"), key="auto")
    assert json_body(automatic)["capture_method"] == "automatic"
    order_id = authorized("100.00")

    shown = json_body(get(order_id))
    assert (shown["status"], shown["capture_method"], shown["amount_authorized"]) == ("AUTHORIZED", "manual", "100.00")
    assert shown["amount_captured"] is None
    initiated = published(in_memory, "PaymentInitiated")
    envelopes = [integration_envelope(e, PUBLISHED_TYPES["PaymentInitiated"]) for e in initiated]
    for envelope in envelopes:
        check_contract(envelope)
    assert [e.data["capture_method"] for e in envelopes] == ["automatic", "manual"]


def test_a_partial_capture_books_what_was_captured_and_bounds_refunds(in_memory: InMemoryEventStore) -> None:
    order_id = authorized("100.00")
    response = capture(order_id, {"amount": "60.00", "currency": "EUR"})
    assert response["statusCode"] == 202, response["body"]
    assert json_body(response)["status"] == "AUTHORIZED"  # until the PSP answers

    [asked] = published(in_memory, "CaptureRequested")
    envelope = integration_envelope(asked, PUBLISHED_TYPES["CaptureRequested"])
    check_contract(envelope)
    assert envelope.data == {
        "payment_order_id": order_id,
        "merchant_id": "merchant-1",
        "currency": "EUR",
        "amount_minor": 6000,
        "idempotency_key": "capture-1",
    }

    tell(order_id, "SUCCESS", "60.00", authorized="100.00")
    shown = json_body(get(order_id))
    assert (shown["status"], shown["amount_captured"], shown["amount_authorized"]) == ("SUCCESS", "60.00", "100.00")

    too_much = refund(order_id, {"amount": "60.01", "currency": "EUR"}, key="r1")
    assert too_much["statusCode"] == 422
    assert json_body(too_much)["errors"] == [{"field": "body.amount", "reason": "at most 60.00 EUR is left to refund"}]
    everything = refund(order_id, {}, key="r2")
    assert everything["statusCode"] == 201 and json_body(everything)["amount"] == "60.00"


def test_a_capture_without_amount_takes_all_that_was_authorized(in_memory: InMemoryEventStore) -> None:
    order_id = authorized("42.00")
    assert capture(order_id)["statusCode"] == 202
    assert [e.data["amount_minor"] for e in published(in_memory, "CaptureRequested")] == [4200]


def test_a_repeat_under_the_same_key_answers_as_the_first_and_another_request_is_refused(
    in_memory: InMemoryEventStore,
) -> None:
    order_id = authorized("100.00")
    body = {"amount": "10.00", "currency": "EUR"}
    first, again = capture(order_id, body, key="k"), capture(order_id, body, key="k")
    assert first["statusCode"] == again["statusCode"] == 202
    tell(order_id, "SUCCESS", "10.00", authorized="100.00")
    late_retry = capture(order_id, body, key="k")  # after the PSP answered: still the first answer's 202
    assert late_retry["statusCode"] == 202 and json_body(late_retry)["status"] == "SUCCESS"
    assert len(published(in_memory, "CaptureRequested")) == 1

    reused = capture(order_id, {"amount": "11.00", "currency": "EUR"}, key="k")
    assert reused["statusCode"] == 422
    assert json_body(reused)["type"] == "urn:payments:problem:idempotency-key-reused"
    second = capture(order_id, body, key="other")
    assert second["statusCode"] == 409
    assert json_body(second)["type"] == "urn:payments:problem:authorization-already-settled"
    assert "capture" in json_body(second)["detail"]
    assert cancel(order_id, key="k")["statusCode"] == 409  # the capture's key names no cancel


def test_cancel_releases_the_hold_and_the_payment_ends_canceled(in_memory: InMemoryEventStore) -> None:
    order_id = authorized("100.00")
    response = cancel(order_id, {"cancellation_reason": "requested_by_customer"}, key="c")
    assert response["statusCode"] == 202, response["body"]
    assert cancel(order_id, {"cancellation_reason": "requested_by_customer"}, key="c")["statusCode"] == 202
    [asked] = published(in_memory, "CancelRequested")
    envelope = integration_envelope(asked, PUBLISHED_TYPES["CancelRequested"])
    check_contract(envelope)
    assert envelope.data == {
        "payment_order_id": order_id,
        "merchant_id": "merchant-1",
        "cancellation_reason": "requested_by_customer",
    }
    then_capture = capture(order_id)
    assert then_capture["statusCode"] == 409 and "cancel" in json_body(then_capture)["detail"]

    tell(order_id, "CANCELED", "100.00")
    assert json_body(get(order_id))["status"] == "CANCELED"
    refused = refund(order_id, {}, key="r")
    assert refused["statusCode"] == 409 and "CANCELED" in json_body(refused)["detail"]


def test_only_an_authorized_payment_is_captured_and_the_problem_says_what_it_is(
    in_memory: InMemoryEventStore,
) -> None:
    pending = json_body(post(payment_method_order(amount="5.00", capture_method="manual"), key="pending"))
    auto = json_body(post(payment_method_order(amount="6.00"), key="auto"))
    tell(auto["payment_order_id"], "SUCCESS", "6.00")
    failed = json_body(post(payment_method_order(amount="7.00", capture_method="manual"), key="failed"))
    tell(failed["payment_order_id"], "FAILED", "7.00")
    for order, status in ((pending, "INITIATED"), (auto, "SUCCESS"), (failed, "FAILED")):
        for act in (capture, cancel):
            response = act(order["payment_order_id"])
            problem = json_body(response)
            assert response["statusCode"] == 409, problem
            assert problem["type"] == "urn:payments:problem:payment-not-authorized"
            assert f"is {status}" in problem["detail"]
    assert published(in_memory, "CaptureRequested") == published(in_memory, "CancelRequested") == []


def test_refusals_name_the_field_and_write_nothing(in_memory: InMemoryEventStore) -> None:
    order_id = authorized("100.00")
    before = len(all_events(in_memory))
    over = {"field": "body.amount", "reason": "must be more than 0 and at most the authorized 100.00 EUR"}
    cases = {
        "missing key": (capture(order_id, key=None), 400, "header.idempotency-key"),
        "missing cancel key": (cancel(order_id, key=None), 400, "header.idempotency-key"),
        "too precise": (capture(order_id, {"amount": "1.001", "currency": "EUR"}), 400, "body.amount"),
        "amount alone": (capture(order_id, {"amount": "1.00"}), 400, "body"),
        "unknown field": (capture(order_id, {"amount_minor": 100}), 400, "body.amount_minor"),
        "unknown reason": (cancel(order_id, {"cancellation_reason": "bored"}), 400, "body.cancellation_reason"),
        "other currency": (capture(order_id, {"amount": "1.00", "currency": "USD"}), 422, "body.currency"),
        "over": (capture(order_id, {"amount": "100.01", "currency": "EUR"}), 422, "body.amount"),
        "zero": (capture(order_id, {"amount": "0.00", "currency": "EUR"}), 422, "body.amount"),
        "negative": (capture(order_id, {"amount": "-1.00", "currency": "EUR"}), 422, "body.amount"),
    }
    for name, (response, status, field) in cases.items():
        problem = json_body(response)
        assert response["statusCode"] == status, (name, problem)
        assert field in [e["field"] for e in problem.get("errors", [])], (name, problem)
        if name in ("over", "zero", "negative"):
            assert problem["type"] == "urn:payments:problem:capture-exceeds-authorized"
            assert problem["errors"] == [over]
    assert len(all_events(in_memory)) == before


def test_a_merchant_settles_only_its_own_payments_and_an_operator_any(in_memory: InMemoryEventStore) -> None:
    order_id = authorized("100.00")
    for act in (capture, cancel):
        other = act(order_id, caller=MERCHANT_2)  # another merchant's payment: not even disclosed
        assert other["statusCode"] == 404 and json_body(other)["type"] == "urn:payments:problem:payment-not-found"
        assert act(PAYMENT_UNKNOWN)["statusCode"] == 404
    assert capture(order_id, caller=OPERATOR_1)["statusCode"] == 202  # support captures on a merchant's behalf
    assert [e.data["merchant_id"] for e in published(in_memory, "CaptureRequested")] == ["merchant-1"]


def test_the_outcome_consumer_records_each_status_only_forward_and_once(in_memory: InMemoryEventStore) -> None:
    order_id = authorized("100.00")
    duplicate = status_event(order_id, "AUTHORIZED", "100.00")
    assert deliver(outcome.handler, duplicate, duplicate) == []
    tell(order_id, "AUTHORIZED", "100.00")  # redelivered by the finalizer under another event id
    assert capture(order_id)["statusCode"] == 202
    success = status_event(order_id, "SUCCESS", "100.00", authorized="100.00")
    assert deliver(outcome.handler, success, success) == []
    tell(order_id, "AUTHORIZED", "100.00")  # late: the capture overtook it
    tell(order_id, "CANCELED", "100.00")  # too late: captured
    shown = json_body(get(order_id))
    assert (shown["status"], shown["amount_captured"]) == ("SUCCESS", "100.00")
    recorded = [e.data["status"] for e in all_events(in_memory) if e.event_type == "PaymentOutcomeRecorded"]
    assert recorded == ["AUTHORIZED", "SUCCESS"]

    # The system's expiry: CANCELED straight from AUTHORIZED, without the merchant asking.
    expired = authorized("30.00", key="expired")
    tell(expired, "CANCELED", "30.00")
    tell(expired, "SUCCESS", "30.00", authorized="30.00")  # a final status never moves
    assert json_body(get(expired))["status"] == "CANCELED"


def test_time_to_final_status_is_measured_to_the_authorization(in_memory: InMemoryEventStore) -> None:
    recorded: list[str] = []
    original = outcome.metrics.add_metric
    outcome.metrics.add_metric = lambda name, **kwargs: recorded.append(name)  # type: ignore[method-assign]
    try:
        order_id = authorized("100.00")
        assert recorded == ["TimeToFinalStatus"]  # the buyer was done at the authorization
        assert capture(order_id)["statusCode"] == 202
        tell(order_id, "SUCCESS", "100.00", authorized="100.00")  # the merchant's capture, maybe days later
    finally:
        outcome.metrics.add_metric = original  # type: ignore[method-assign]
    assert recorded == ["TimeToFinalStatus"]


def test_an_authorization_is_not_refunded_but_left_to_cancel(in_memory: InMemoryEventStore) -> None:
    # Stripe refunds only a captured charge; a hold is released by cancelling it ("For PaymentIntents with a status
    # of requires_capture, the remaining amount_capturable is automatically refunded", the cancel's API reference).
    order_id = authorized("100.00")
    refused = refund(order_id, {}, key="r-held")
    assert refused["statusCode"] == 409 and "AUTHORIZED" in json_body(refused)["detail"]
    assert published(in_memory, "RefundRequested") == []
    assert json_body(get(order_id))["status"] == "AUTHORIZED"
