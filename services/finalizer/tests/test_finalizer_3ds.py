"""3-D Secure end to end in the finalizer, in-process: the charge's consumer, Stripe's webhooks and the sweep,
on the in-memory event store, the Stripe adapter on the fake PSP (which signs its webhooks as Stripe does)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from dependency_injector import providers
from fake_psp import FakePsp, stripe_signature
from finalizer_testdata import payment_initiated, post_webhook, webhook_request

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.adapters.stripe_psp import StripePsp
from finalizer.entrypoints import charge, stripe_webhook, sweep
from payments_shared.events import utc_now
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver

RETURN_URL = "https://shop.example/return"


@pytest.fixture
def webhooks(runtime: ModuleType, psp: FakePsp) -> FakePsp:
    """Stripe's webhook endpoint secret, as SSM would hand it to the function; the fake delivers nowhere, so
    each test hands the handler exactly the events it means to."""
    runtime.container.stripe_webhook_secret.override(providers.Object(lambda: psp.webhook_secret))
    return psp


def initiated_3ds(**data: Any) -> dict[str, Any]:
    return payment_initiated(
        payment_details=None, card=None, payment_method="pm_card_authenticationRequired", return_url=RETURN_URL, **data
    )


def order_id_of(event: dict[str, Any]) -> str:
    return str(event["detail"]["data"]["payment_order_id"])


def recorded(store: InMemoryEventStore, order_id: str) -> list[str]:
    return [e.event_type for e in store.load(f"payment-{order_id}").events]


def stripe_events(psp: FakePsp, intent_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in psp.webhook_events if e["type"] == event_type and e["data"]["object"]["id"] == intent_id]


def awaiting(runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp) -> tuple[str, str]:
    """A payment charged with a card that asks for 3-D Secure: (order id, its PaymentIntent)."""
    event = initiated_3ds()
    assert deliver(charge.handler, event) == []
    order_id = order_id_of(event)
    [action] = store.load(f"payment-{order_id}").events
    assert action.event_type == "PaymentActionRequired" and action.data["status"] == "REQUIRES_ACTION"
    return order_id, str(action.data["psp_reference"])


def test_a_card_asking_for_3ds_awaits_the_buyer_with_stripes_redirect_and_charges_nothing(
    runtime: ModuleType, store: InMemoryEventStore, results: InMemoryPaymentResults, webhooks: FakePsp
) -> None:
    order_id, intent_id = awaiting(runtime, store, webhooks)
    [action] = store.load(f"payment-{order_id}").events
    intent = webhooks.intent(intent_id)
    assert intent["status"] == "requires_action" and webhooks.charges[order_id] == 0
    assert action.data["next_action_type"] == "redirect_to_url"
    assert action.data["redirect_url"] == intent["next_action"]["redirect_to_url"]["url"]
    assert intent["next_action"]["redirect_to_url"]["return_url"] == RETURN_URL  # the merchant's page, via us
    row = results.result(order_id)
    assert row is not None and row["payment_status"] == "REQUIRES_ACTION" and "client_secret" not in row
    assert results.awaiting_since_before(utc_now() + timedelta(seconds=1), 10) == [order_id]


def test_an_authenticated_buyer_is_a_success_once_whatever_webhooks_come_and_how_often(
    runtime: ModuleType, store: InMemoryEventStore, results: InMemoryPaymentResults, webhooks: FakePsp
) -> None:
    order_id, intent_id = awaiting(runtime, store, webhooks)
    [asked] = stripe_events(webhooks, intent_id, "payment_intent.requires_action")
    webhooks.authenticate(intent_id, succeed=True)
    [succeeded] = stripe_events(webhooks, intent_id, "payment_intent.succeeded")
    assert post_webhook(webhooks, succeeded)["statusCode"] == 200
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]
    for late in (succeeded, asked, succeeded):  # twice, and one from before it, out of order
        assert post_webhook(webhooks, late)["statusCode"] == 200
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]
    assert webhooks.charges[order_id] == 1 and webhooks.intents[order_id] == 1
    row = results.result(order_id)
    assert row is not None and row["payment_status"] == "SUCCESS" and "awaiting" not in row  # left the index
    assert f"stripe-event-{succeeded['id']}" in store._claimed  # claimed forever, with the outcome


def test_a_stale_webhook_is_settled_from_the_intent_as_it_is_now(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    """A requires_action event that arrives after the buyer authenticated: the intent is re-read, not the payload."""
    order_id, intent_id = awaiting(runtime, store, webhooks)
    [asked] = stripe_events(webhooks, intent_id, "payment_intent.requires_action")
    webhooks.authenticate(intent_id, succeed=True)
    assert post_webhook(webhooks, asked)["statusCode"] == 200
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]


def test_a_failed_authentication_fails_the_payment_with_stripes_reason(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    order_id, intent_id = awaiting(runtime, store, webhooks)
    webhooks.authenticate(intent_id, succeed=False)
    [failed] = stripe_events(webhooks, intent_id, "payment_intent.payment_failed")
    assert post_webhook(webhooks, failed)["statusCode"] == 200
    [_, outcome] = store.load(f"payment-{order_id}").events
    assert outcome.event_type == "PaymentFailed"
    assert outcome.data["decline_code"] == "payment_intent_authentication_failure"
    assert webhooks.charges[order_id] == 0


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda body, sig: (body.replace(b'"livemode": false', b'"livemode": true'), sig), "body changed"),
        (lambda body, sig: (body, sig.replace("v1=", "v1=0")), "signature changed"),
        (lambda body, sig: (body, None), "no signature"),
        (lambda body, sig: (body, stripe_signature(body, "whsec_other", int(time.time()))), "another secret"),
        (lambda body, sig: (body, stripe_signature(body, "whsec_fake_psp", int(time.time()) - 301)), "too old"),
    ],
)
def test_a_webhook_that_does_not_verify_is_a_400_and_records_nothing(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp, tamper: Any, reason: str
) -> None:
    order_id, intent_id = awaiting(runtime, store, webhooks)
    webhooks.authenticate(intent_id, succeed=True)
    [succeeded] = stripe_events(webhooks, intent_id, "payment_intent.succeeded")
    body = json.dumps(succeeded).encode()
    body, signature = tamper(body, stripe_signature(body, webhooks.webhook_secret, int(time.time())))
    response = stripe_webhook.handler(webhook_request(body, signature), LambdaContext())
    assert response["statusCode"] == 400, reason
    assert json.loads(response["body"])["type"] == "urn:payments:problem:invalid-request"
    assert recorded(store, order_id) == ["PaymentActionRequired"]  # nothing recorded, no claim
    assert f"stripe-event-{succeeded['id']}" not in store._claimed


def test_an_abandoned_authentication_is_cancelled_by_the_sweep_past_the_deadline(
    runtime: ModuleType, store: InMemoryEventStore, results: InMemoryPaymentResults, webhooks: FakePsp
) -> None:
    order_id, intent_id = awaiting(runtime, store, webhooks)
    assert sweep.handler({}, LambdaContext()) == {"settled": 0, "released": 0}  # within the deadline: left to the buyer
    later = utc_now() + timedelta(seconds=runtime.container.config.authentication_deadline_s() + 1)
    runtime.container.clock.override(providers.Object(lambda: later))
    runtime.container.app.reset()  # the app was built with the clock of the charge
    assert sweep.handler({}, LambdaContext()) == {"settled": 1, "released": 0}
    intent = webhooks.intent(intent_id)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")
    [_, outcome] = store.load(f"payment-{order_id}").events
    assert (outcome.event_type, outcome.data["decline_code"]) == ("PaymentFailed", "authentication_abandoned")
    assert results.awaiting_since_before(later, 10) == []
    assert sweep.handler({}, LambdaContext()) == {"settled": 0, "released": 0}
    assert webhooks.charges[order_id] == 0


def test_a_buyer_who_authenticated_at_the_last_moment_is_a_success_when_swept(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    """Its webhook never came (or not yet): Stripe refuses to cancel a succeeded intent, and the sweep records it."""
    order_id, intent_id = awaiting(runtime, store, webhooks)
    webhooks.authenticate(intent_id, succeed=True)
    later = utc_now() + timedelta(hours=1)
    runtime.container.clock.override(providers.Object(lambda: later))
    runtime.container.app.reset()  # the app was built with the clock of the charge
    assert sweep.handler({}, LambdaContext()) == {"settled": 1, "released": 0}
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]
    assert webhooks.intent(intent_id)["status"] == "succeeded" and webhooks.charges[order_id] == 1


def test_a_redelivered_payment_awaiting_the_buyer_asks_stripe_and_never_makes_a_second_intent(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    event = initiated_3ds()
    assert deliver(charge.handler, event, event) == []  # the second finds it awaiting: the intent is re-read
    order_id = order_id_of(event)
    assert recorded(store, order_id) == ["PaymentActionRequired"]
    [action] = store.load(f"payment-{order_id}").events
    webhooks.authenticate(str(action.data["psp_reference"]), succeed=True)
    assert deliver(charge.handler, event) == []
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]
    assert webhooks.intents[order_id] == 1 and webhooks.charges[order_id] == 1


def test_a_young_duplicate_of_a_payment_awaiting_the_buyer_asks_stripe_after_its_write_is_refused(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    event = initiated_3ds()
    event["detail"]["occurred_at"] = utc_now().isoformat()  # a first delivery: charged before any read
    assert deliver(charge.handler, event) == []
    order_id = order_id_of(event)
    [action] = store.load(f"payment-{order_id}").events
    webhooks.authenticate(str(action.data["psp_reference"]), succeed=True)
    # A duplicate publish: Stripe replays the key's first answer (requires_action), the stream refuses the write
    # and shows the payment awaiting, so the intent's state now is asked and recorded.
    assert deliver(charge.handler, event) == []
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]
    assert webhooks.intents[order_id] == 1 and webhooks.charges[order_id] == 1


def test_a_webhook_for_a_payment_not_recorded_yet_or_not_ours_is_acknowledged(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    foreign = {
        "id": "evt_foreign",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_x", "object": "payment_intent", "metadata": {}}},
    }
    assert post_webhook(webhooks, foreign)["statusCode"] == 200
    unknown = {**foreign, "id": "evt_unknown"}
    unknown["data"] = {"object": {"id": "pi_y", "object": "payment_intent", "metadata": {"payment_order_id": "x"}}}
    assert post_webhook(webhooks, unknown)["statusCode"] == 200
    assert not any(store._streams.values())  # nothing recorded for either


def test_a_webhook_stripe_cannot_be_asked_about_now_is_a_503_so_stripe_retries_and_nothing_is_claimed(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    order_id, intent_id = awaiting(runtime, store, webhooks)
    webhooks.authenticate(intent_id, succeed=True)
    [succeeded] = stripe_events(webhooks, intent_id, "payment_intent.succeeded")
    unreachable = StripePsp(lambda: webhooks.api_key, api_base="http://127.0.0.1:9", max_network_retries=0)
    with runtime.container.psp.override(unreachable):
        runtime.container.app.reset()
        response = post_webhook(webhooks, succeeded)
    assert response["statusCode"] == 503 and json.loads(response["body"])["type"] == "urn:payments:problem:busy"
    assert recorded(store, order_id) == ["PaymentActionRequired"]
    assert f"stripe-event-{succeeded['id']}" not in store._claimed  # Stripe's retry is not taken for a duplicate
    runtime.container.app.reset()
    assert post_webhook(webhooks, succeeded)["statusCode"] == 200  # the retry, once Stripe answers
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]


def test_the_webhook_of_a_payment_its_charge_recorded_writes_nothing_however_often_it_comes(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    """Stripe sends payment_intent.succeeded for every payment, not only those that awaited the buyer: for one the
    charge recorded already, the read answers and nothing is written (no claim: a write per payment saved)."""
    event = payment_initiated(payment_details=None, card=None, payment_method="pm_card_visa")
    assert deliver(charge.handler, event) == []
    order_id = order_id_of(event)
    [charged] = store.load(f"payment-{order_id}").events
    [succeeded] = stripe_events(webhooks, str(charged.data["psp_reference"]), "payment_intent.succeeded")
    for _ in range(2):
        assert post_webhook(webhooks, succeeded)["statusCode"] == 200
    assert recorded(store, order_id) == ["PaymentSucceeded"]
    assert not store._claimed and webhooks.charges[order_id] == 1
