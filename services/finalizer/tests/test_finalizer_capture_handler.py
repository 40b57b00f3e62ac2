"""The capture consumer, the capture window's sweep and Stripe's expiry webhook in-process: the real runtime, the
in-memory event store, the Stripe adapter on the fake PSP (manual capture as Stripe documents it)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from dependency_injector import providers
from fake_psp import AUTHORIZATION_WINDOW_S, FakePsp
from fake_psp.balance import card_fee
from finalizer_testdata import payment_initiated, signed_webhook

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.domain.streams import PUBLISHED_TYPES, payment_stream
from finalizer.entrypoints import capture, charge, stripe_webhook, sweep
from payments_shared.contracts import check_contract
from payments_shared.events import utc_now
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.relay import integration_envelope
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, eventbridge_delivery


def authorized(card: str = "pm_card_visa") -> str:
    """A manual-capture payment (12.34 EUR) the finalizer charged, through its own consumer: held, not captured."""
    event = payment_initiated(payment_method=card, card=None, payment_details=None, capture_method="manual")
    assert deliver(charge.handler, event) == []
    return str(event["detail"]["data"]["payment_order_id"])


def requested(event_type: str, order_id: str, merchant_id: str = "merchant-1", **data: Any) -> dict[str, Any]:
    """The initializer's CaptureRequested or CancelRequested."""
    detail = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": utc_now().isoformat(),
        "aggregate_id": f"payment-{order_id}",
        "aggregate_version": 3,
        "correlation_id": order_id,
        "causation_id": None,
        "trace": {"traceparent": None, "tracestate": None},
        "data": {"payment_order_id": order_id, "merchant_id": merchant_id, **data},
    }
    return eventbridge_delivery(detail, "payments.initializer")


def capture_requested(order_id: str, amount_minor: int = 1234, **data: Any) -> dict[str, Any]:
    fields = {"currency": "EUR", "amount_minor": amount_minor, "idempotency_key": "cap-1", **data}
    return requested("CaptureRequested", order_id, **fields)


def cancel_requested(order_id: str, reason: str | None = "requested_by_customer", **data: Any) -> dict[str, Any]:
    return requested("CancelRequested", order_id, cancellation_reason=reason, **data)


def recorded(store: InMemoryEventStore, order_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, dict(e.data)) for e in store.load(payment_stream(order_id)).events]


def published(store: InMemoryEventStore, order_id: str) -> list[dict[str, Any]]:
    """PaymentStatusUpdated as the relay publishes each of the payment's events (checked against its contract)."""
    out = []
    for stored in store.load(payment_stream(order_id)).events:
        envelope = integration_envelope(stored, PUBLISHED_TYPES[stored.event_type])
        check_contract(envelope)
        out.append(envelope.data)
    return out


def intent_of(store: InMemoryEventStore, order_id: str) -> str:
    return str(recorded(store, order_id)[0][1]["psp_reference"])


def test_a_manual_capture_charge_is_authorized_and_published_authorized(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, results: InMemoryPaymentResults
) -> None:
    order_id = authorized()

    [(event_type, data)] = recorded(store, order_id)
    assert (event_type, data["status"], data["amount_minor"]) == ("PaymentAuthorized", "AUTHORIZED", 1234)
    assert psp.intent(data["psp_reference"])["status"] == "requires_capture"
    [status] = published(store, order_id)
    assert (status["status"], status["amount_minor"]) == ("AUTHORIZED", 1234)
    assert (results.result(order_id) or {})["payment_status"] == "AUTHORIZED"


def test_a_partial_capture_succeeds_with_the_captured_amount_and_releases_the_rest(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, results: InMemoryPaymentResults
) -> None:
    order_id = authorized()

    assert deliver(capture.handler, capture_requested(order_id, 1000)) == []

    success = published(store, order_id)[-1]
    assert (success["status"], success["amount_minor"], success["amount"], success["amount_authorized_minor"]) == (
        "SUCCESS",
        1000,
        "10.00",
        1234,
    )
    assert success["psp_fee_minor"] == card_fee(1000, 290, 30)  # Stripe's fee on what was captured
    assert published(store, order_id)[0].get("psp_fee_minor") is None  # an authorization moved no money
    intent = psp.intent(intent_of(store, order_id))
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 1000)
    assert psp.charge(intent["latest_charge"])["amount_refunded"] == 234  # released
    assert (results.result(order_id) or {})["payment_status"] == "SUCCESS"
    assert results.authorized_since_before(utc_now() + timedelta(days=30), 10) == []  # left the sweep's index


def test_a_redelivered_capture_captures_once_and_records_nothing_new(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    order_id = authorized()
    event = capture_requested(order_id, 1234)

    assert deliver(capture.handler, event) == []
    assert deliver(capture.handler, event) == []

    assert [t for t, _ in recorded(store, order_id)] == ["PaymentAuthorized", "PaymentSucceeded"]
    assert psp.requests[f"capture-{order_id}"] == 1


def test_a_capture_whose_answer_was_lost_is_recorded_from_stripes_replay(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    order_id = authorized()
    psp.script(f"capture-{order_id}", ["lost"])  # Stripe captured, the answer never came back: the SDK asks again

    assert deliver(capture.handler, capture_requested(order_id, 600)) == []

    assert psp.requests[f"capture-{order_id}"] == 2  # the same key: Stripe's stored answer, no second capture
    assert published(store, order_id)[-1]["amount_minor"] == 600
    assert psp.intent(intent_of(store, order_id))["amount_received"] == 600


def test_a_capture_stripe_cannot_answer_is_left_for_the_redelivery(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    order_id = authorized()
    psp.script(f"capture-{order_id}", ["503", "503", "503"])  # the SDK's retries all unanswered

    assert deliver(capture.handler, capture_requested(order_id, 600)) == [0]

    assert [t for t, _ in recorded(store, order_id)] == ["PaymentAuthorized"]
    assert deliver(capture.handler, capture_requested(order_id, 600)) == []
    assert published(store, order_id)[-1]["amount_minor"] == 600


def test_a_cancel_releases_the_authorization_canceled(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    order_id = authorized()

    assert deliver(capture.handler, cancel_requested(order_id, "fraudulent")) == []

    canceled = published(store, order_id)[-1]
    assert (canceled["status"], canceled["amount_minor"]) == ("CANCELED", 1234)
    intent = psp.intent(intent_of(store, order_id))
    assert (intent["status"], intent["cancellation_reason"], intent["amount_capturable"]) == (
        "canceled",
        "fraudulent",
        0,
    )
    assert deliver(capture.handler, capture_requested(order_id)) == []  # final: a late capture changes nothing
    assert [t for t, _ in recorded(store, order_id)][-1] == "PaymentCanceled"


def test_a_batch_reports_only_what_cannot_be_done_now(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    order_id = authorized()
    other = authorized()
    fine = capture_requested(order_id, 1234)
    not_authorized_here = capture_requested(str(uuid.uuid4()))  # its authorization may be on its way: retried
    another_merchant = cancel_requested(other, merchant_id="merchant-2")  # never ours to cancel: retried, then DLQ
    malformed = capture_requested(order_id, 0)  # not positive: the contract refuses it

    assert deliver(capture.handler, fine, not_authorized_here, another_merchant, malformed) == [1, 2, 3]

    assert published(store, order_id)[-1]["status"] == "SUCCESS"
    assert [t for t, _ in recorded(store, other)] == ["PaymentAuthorized"]


def test_the_sweep_cancels_authorizations_held_past_the_capture_window(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    order_id = authorized()
    window = timedelta(seconds=runtime.container.config.capture_window_s())
    assert window == timedelta(days=7)
    assert sweep.handler({}, LambdaContext()) == {"settled": 0, "released": 0}  # within the window

    runtime.container.clock.override(providers.Object(lambda: utc_now() + window + timedelta(seconds=1)))
    runtime.container.app.reset()  # built with the clock of its first use
    assert sweep.handler({}, LambdaContext()) == {"settled": 0, "released": 1}

    canceled = published(store, order_id)[-1]
    assert (canceled["status"], canceled["amount_minor"]) == ("CANCELED", 1234)
    assert psp.intent(intent_of(store, order_id))["cancellation_reason"] == "abandoned"
    assert sweep.handler({}, LambdaContext()) == {"settled": 0, "released": 0}  # once


def test_an_authentication_then_a_hold_is_authorized_from_its_webhook(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    runtime.container.stripe_webhook_secret.override(providers.Object(lambda: psp.webhook_secret))
    event = payment_initiated(
        payment_method="pm_card_authenticationRequired", card=None, payment_details=None, capture_method="manual"
    )
    assert deliver(charge.handler, event) == []
    order_id = str(event["detail"]["data"]["payment_order_id"])
    intent_id = intent_of(store, order_id)

    assert psp.authenticate(intent_id, succeed=True)["status"] == "requires_capture"
    [held] = [e for e in psp.webhook_events if e["type"] == "payment_intent.amount_capturable_updated"]
    assert stripe_webhook.handler(signed_webhook(psp, held), LambdaContext())["statusCode"] == 200

    assert [t for t, _ in recorded(store, order_id)] == ["PaymentActionRequired", "PaymentAuthorized"]
    assert deliver(capture.handler, capture_requested(order_id, 1234)) == []
    assert published(store, order_id)[-1]["status"] == "SUCCESS"


def test_stripes_own_expiry_is_recorded_canceled_from_its_webhook(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    runtime.container.stripe_webhook_secret.override(providers.Object(lambda: psp.webhook_secret))
    now = time.time()
    psp.clock = lambda: now
    order_id = authorized()
    intent_id = intent_of(store, order_id)
    psp.clock = lambda: now + AUTHORIZATION_WINDOW_S

    assert psp.expire_authorizations() == [intent_id]
    [expired] = [e for e in psp.webhook_events if e["type"] == "payment_intent.canceled"]
    request = signed_webhook(psp, expired)
    assert stripe_webhook.handler(request, LambdaContext())["statusCode"] == 200

    canceled = published(store, order_id)[-1]
    assert (canceled["status"], canceled["decline_code"]) == ("CANCELED", "expired")
    assert stripe_webhook.handler(request, LambdaContext())["statusCode"] == 200  # redelivered: nothing new
    assert len(recorded(store, order_id)) == 2


@pytest.mark.parametrize("amount_minor", [1235])
def test_more_than_was_authorized_is_never_asked_of_stripe(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, amount_minor: int
) -> None:
    order_id = authorized()

    assert deliver(capture.handler, capture_requested(order_id, amount_minor)) == [0]

    assert psp.requests[f"capture-{order_id}"] == 0
    assert psp.intent(intent_of(store, order_id))["status"] == "requires_capture"
