"""3-D Secure, cancel and signed webhooks of the fake PSP, met through Stripe's own SDK: what the fake answers
must be what the SDK parses, and its webhooks what stripe.Webhook.construct_event accepts."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from stripe.params import PaymentIntentCancelParams

from fake_psp.server import API_KEY, AUTHENTICATION_FAILURE_MESSAGE, FakePsp, stripe_signature
from payments_testing.loopback import LoopbackServer

SIGNING_KEY = "whsec_receiver_under_test"  # the endpoint's secret, as the Dashboard shows it
RETURN_URL = "https://shop.example/checkout/return?order=42"
QUICK_RETRY_S = 0.02  # the fake's backoff base in these tests: retries within milliseconds


class Receiver:
    """A webhook endpoint on loopback: keeps each delivery's raw body and Stripe-Signature; answers the statuses
    in `answers` first, then 200."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.deliveries: list[tuple[bytes, str]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # - stdlib signature
                return

            def do_POST(self) -> None:  # - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                assert self.headers["Content-Type"] == "application/json; charset=utf-8"
                with receiver._lock:
                    receiver.deliveries.append((body, self.headers.get("Stripe-Signature", "")))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = LoopbackServer(Handler).start()

    @property
    def url(self) -> str:
        return self._server.url("/stripe/webhooks")

    def event_ids(self) -> list[str]:
        with self._lock:
            return [json.loads(body)["id"] for body, _ in self.deliveries]

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


def fake(receiver: Receiver, **options: Any) -> FakePsp:
    return FakePsp(webhook_url=receiver.url, webhook_secret=SIGNING_KEY, webhook_retry_base_s=QUICK_RETRY_S, **options)


@pytest.fixture
def psp(receiver: Receiver) -> Iterator[FakePsp]:
    running = fake(receiver).start()
    yield running
    running.stop()


def client(psp: FakePsp) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)


def pay(psp: FakePsp, payment_method: str, key: str, return_url: str | None = None) -> stripe.PaymentIntent:
    params: dict[str, Any] = {"amount": 1234, "currency": "eur", "confirm": True, "payment_method": payment_method}
    if return_url is not None:
        params["return_url"] = return_url
    return client(psp).v1.payment_intents.create(params=params, options={"idempotency_key": key})  # type: ignore[arg-type]


def browser(psp: FakePsp, method: str, path: str) -> http.client.HTTPResponse:
    """The buyer's browser on the fake's 3DS page: no API key, redirects not followed."""
    parts = urlsplit(psp.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    connection.request(method, path, body=b"" if method == "POST" else None)
    response = connection.getresponse()
    response.read()
    return response


# -- 3-D Secure


def test_a_card_asking_for_3ds_redirects_to_the_fakes_page_and_back_to_the_return_url(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "3ds-redirect", RETURN_URL)
    assert intent.status == "requires_action" and intent.next_action is not None
    assert intent.next_action.type == "redirect_to_url"
    redirect = intent.next_action.redirect_to_url
    assert redirect is not None
    assert (redirect.url, redirect.return_url) == (f"{psp.url}/3ds/{intent.id}", RETURN_URL)
    assert psp.charges["3ds-redirect"] == 0 and intent.amount_received == 0


def test_without_a_return_url_the_next_action_is_for_stripe_js(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "3ds-sdk")
    assert intent.next_action is not None and intent.next_action.type == "use_stripe_sdk"
    sdk = intent.next_action.use_stripe_sdk
    assert sdk is not None and sdk["type"] == "three_d_secure_redirect"
    assert sdk["stripe_js"] == f"{psp.url}/3ds/{intent.id}" and sdk["source"].startswith("src_")


def test_completed_authentication_charges_once(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "3ds-complete")
    psp.authenticate(intent.id, succeed=True)
    done = client(psp).v1.payment_intents.retrieve(intent.id)
    assert (done.status, done.amount_received, done.next_action) == ("succeeded", 1234, None)
    assert done.latest_charge is not None and str(done.latest_charge).startswith("ch_")
    assert psp.charges["3ds-complete"] == 1
    with pytest.raises(ValueError, match="succeeded"):
        psp.authenticate(intent.id, succeed=True)  # a second completion charges nothing more
    assert psp.charges["3ds-complete"] == 1 and psp.intent(intent.id)["status"] == "succeeded"


def test_failed_authentication_asks_for_another_payment_method_with_stripes_error(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "3ds-fail")
    psp.authenticate(intent.id, succeed=False)
    failed = client(psp).v1.payment_intents.retrieve(intent.id)
    assert (failed.status, failed.next_action, failed.payment_method) == ("requires_payment_method", None, None)
    error = failed.last_payment_error
    assert error is not None
    assert (error.type, error.code, error.message) == (
        "invalid_request_error",
        "payment_intent_authentication_failure",
        AUTHENTICATION_FAILURE_MESSAGE,
    )
    assert error.payment_method is not None and error.payment_method.id == "pm_card_authenticationRequired"
    assert psp.charges["3ds-fail"] == 0


def test_the_buyers_page_completes_and_redirects_to_the_return_url(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "page-complete", RETURN_URL)
    page = browser(psp, "GET", f"/3ds/{intent.id}")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    answer = browser(psp, "POST", f"/3ds/{intent.id}/complete")
    assert answer.status == 303
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://shop.example/checkout/return"
    assert parse_qs(location.query) == {
        "order": ["42"],
        "payment_intent": [intent.id],
        "payment_intent_client_secret": [intent.client_secret],
    }
    assert psp.intent(intent.id)["status"] == "succeeded" and psp.charges["page-complete"] == 1


def test_the_page_offers_both_outcomes_and_fails_without_a_return_url(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "page-fail")
    parts = urlsplit(psp.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    connection.request("GET", f"/3ds/{intent.id}")
    page = connection.getresponse().read().decode()
    assert f'action="/3ds/{intent.id}/complete"' in page and f'action="/3ds/{intent.id}/fail"' in page
    assert browser(psp, "POST", f"/3ds/{intent.id}/fail").status == 200  # a "done" page: nowhere to return to
    assert psp.intent(intent.id)["status"] == "requires_payment_method"
    assert browser(psp, "POST", f"/3ds/{intent.id}/complete").status == 400  # no longer awaiting authentication
    assert psp.intent(intent.id)["status"] == "requires_payment_method" and psp.charges["page-fail"] == 0
    assert browser(psp, "GET", "/3ds/pi_unknown").status == 404


# -- cancel


def test_an_intent_awaiting_authentication_can_be_canceled(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "cancel-3ds")
    canceled = client(psp).v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "abandoned"})
    assert (canceled.status, canceled.cancellation_reason, canceled.next_action) == ("canceled", "abandoned", None)
    assert isinstance(canceled.canceled_at, int)
    with pytest.raises(ValueError, match="canceled"):
        psp.authenticate(intent.id, succeed=True)
    assert psp.charges["cancel-3ds"] == 0


def test_a_succeeded_intent_cannot_be_canceled(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_visa", "cancel-succeeded")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(psp).v1.payment_intents.cancel(intent.id)
    assert (refused.value.http_status, refused.value.code) == (400, "payment_intent_unexpected_state")
    error = refused.value.error
    assert error is not None and error.payment_intent is not None
    assert (error.payment_intent.id, error.payment_intent.status) == (intent.id, "succeeded")
    assert error.message is not None and error.message.startswith(
        "You cannot cancel this PaymentIntent because it has a status of succeeded."
    )


def test_cancel_refuses_an_unknown_reason_and_an_unknown_intent(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "cancel-bad")
    with pytest.raises(stripe.InvalidRequestError) as bad_reason:
        client(psp).v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "expired"})
    assert (bad_reason.value.http_status, bad_reason.value.param) == (400, "cancellation_reason")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client(psp).v1.payment_intents.cancel("pi_unknown")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    assert psp.intent(intent.id)["status"] == "requires_action"


def test_a_cancel_retried_with_its_key_replays_and_another_use_of_the_key_is_refused(psp: FakePsp) -> None:
    intent = pay(psp, "pm_card_authenticationRequired", "cancel-idem")
    cancel = client(psp).v1.payment_intents.cancel
    reason: PaymentIntentCancelParams = {"cancellation_reason": "duplicate"}
    first = cancel(intent.id, params=reason, options={"idempotency_key": "cancel-key"})
    again = cancel(intent.id, params=reason, options={"idempotency_key": "cancel-key"})
    assert again.to_dict() == first.to_dict() and again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):
        cancel(intent.id, options={"idempotency_key": "cancel-key"})  # the same key, other parameters
    with pytest.raises(stripe.IdempotencyError):
        cancel(intent.id, params=reason, options={"idempotency_key": "cancel-idem"})  # the create's key
    assert [e["type"] for e in psp.webhook_events].count("payment_intent.canceled") == 1


# -- webhooks


def verified(receiver: Receiver) -> list[stripe.Event]:
    return [
        stripe.Webhook.construct_event(body, header, SIGNING_KEY, tolerance=300) for body, header in receiver.deliveries
    ]


def test_every_event_is_delivered_signed_as_stripe_signs_it(psp: FakePsp, receiver: Receiver) -> None:
    paid = pay(psp, "pm_card_visa", "hook-paid")
    with pytest.raises(stripe.CardError) as declined:
        pay(psp, "pm_card_chargeDeclined", "hook-declined")
    assert declined.value.error is not None and declined.value.error.payment_intent is not None
    declined_id = declined.value.error.payment_intent.id
    waiting = pay(psp, "pm_card_authenticationRequired", "hook-3ds", RETURN_URL)
    psp.authenticate(waiting.id, succeed=False)
    assert psp.wait_for_webhooks(5)
    events = verified(receiver)
    assert [(e.type, e.data.object.id) for e in events] == [
        ("payment_intent.succeeded", paid.id),
        ("payment_intent.payment_failed", declined_id),
        ("payment_intent.requires_action", waiting.id),
        ("payment_intent.payment_failed", waiting.id),
    ]
    first = events[0]
    assert (first.object, first.livemode, first.pending_webhooks, first.api_version) == (
        "event",
        False,
        1,
        "2026-10-28.endive",
    )
    assert first.request is not None and first.request.idempotency_key == "hook-paid"
    assert first.request.id is not None and first.request.id.startswith("req_")
    assert events[3].request is not None and events[3].request.id is None  # the buyer's doing, not an API call
    assert [e.id for e in events] == [e["id"] for e in psp.webhook_events if e["pending_webhooks"]]
    assert [e["type"] for e in psp.webhook_events][:2] == ["payment_intent.created", "payment_intent.succeeded"]
    body, header = receiver.deliveries[0]
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert header.startswith(stripe_signature(body, SIGNING_KEY, timestamp) + ",v0=")
    assert all(psp.webhooks_delivered[e.id] == 1 for e in events) and not psp.webhooks_abandoned


def test_a_tampered_or_forged_delivery_is_refused(psp: FakePsp, receiver: Receiver) -> None:
    pay(psp, "pm_card_visa", "hook-tamper")
    assert psp.wait_for_webhooks(5)
    [(body, header)] = receiver.deliveries
    tampered = body.replace(b'"amount": 1234', b'"amount": 1')
    assert tampered != body
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, header, SIGNING_KEY, tolerance=300)
    forged = stripe_signature(body, "whsec_someone_else", int(header.split(",")[0].removeprefix("t=")))
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, forged, SIGNING_KEY, tolerance=300)
    stale = stripe_signature(body, SIGNING_KEY, int(psp.clock()) - 600)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(body, stale, SIGNING_KEY, tolerance=300)


def test_an_endpoint_failing_twice_gets_the_event_on_the_third_attempt(psp: FakePsp, receiver: Receiver) -> None:
    receiver.answers = [500, 500]
    pay(psp, "pm_card_visa", "hook-retry")
    assert psp.wait_for_webhooks(5)
    [event] = [e for e in psp.webhook_events if e["pending_webhooks"]]
    assert (psp.webhook_attempts[event["id"]], psp.webhooks_delivered[event["id"]]) == (3, 1)
    assert receiver.event_ids() == [event["id"]] * 3
    assert len(verified(receiver)) == 3  # each attempt signed afresh, each valid


def test_an_endpoint_that_never_answers_2xx_is_abandoned_after_the_last_attempt(receiver: Receiver) -> None:
    receiver.answers = [503] * 10
    psp = fake(receiver, webhook_max_attempts=4).start()
    try:
        pay(psp, "pm_card_visa", "hook-abandoned")
        assert psp.wait_for_webhooks(5)
        [event] = [e for e in psp.webhook_events if e["pending_webhooks"]]
        assert (psp.webhook_attempts[event["id"]], psp.webhooks_delivered[event["id"]]) == (4, 0)
        assert psp.webhooks_abandoned[event["id"]] == 1
    finally:
        psp.stop()


def test_an_unreachable_endpoint_is_retried_like_a_failing_one() -> None:
    gone = Receiver()
    gone.stop()  # nothing listens there now: connection refused
    psp = FakePsp(webhook_url=gone.url, webhook_retry_base_s=QUICK_RETRY_S, webhook_max_attempts=3).start()
    try:
        pay(psp, "pm_card_visa", "hook-refused")
        assert psp.wait_for_webhooks(5)
        assert sum(psp.webhook_attempts.values()) == 3 and sum(psp.webhooks_abandoned.values()) == 1
    finally:
        psp.stop()


def test_a_duplicate_rate_of_one_delivers_every_event_twice(receiver: Receiver) -> None:
    psp = fake(receiver, webhook_duplicate_rate=1.0).start()
    try:
        pay(psp, "pm_card_visa", "hook-twice")
        assert psp.wait_for_webhooks(5)
        [event] = [e for e in psp.webhook_events if e["pending_webhooks"]]
        assert psp.webhooks_delivered[event["id"]] == 2 and receiver.event_ids() == [event["id"]] * 2
    finally:
        psp.stop()


def test_random_delays_deliver_events_late_and_out_of_order(receiver: Receiver) -> None:
    # Seed 23 draws delays of 3.05 s, 0.45 s and 1.47 s for the three events (a draw per create comes first): the
    # order holds while the three creates take under 1.6 s together, a wide margin on a loaded machine.
    psp = fake(receiver, seed=23, webhook_delay_s=(0.2, 3.2)).start()
    try:
        pay(psp, "pm_card_visa", "hook-late-0")
        assert receiver.deliveries == []  # late: not at once
        pay(psp, "pm_card_visa", "hook-late-1")
        pay(psp, "pm_card_visa", "hook-late-2")
        first, second, third = (e["id"] for e in psp.webhook_events if e["pending_webhooks"])
        assert psp.wait_for_webhooks(10)
        assert receiver.event_ids() == [second, third, first]
    finally:
        psp.stop()


def test_paused_webhooks_wait_until_resumed(psp: FakePsp, receiver: Receiver) -> None:
    psp.pause_webhooks()
    pay(psp, "pm_card_visa", "hook-paused")
    assert not psp.wait_for_webhooks(0.3) and receiver.deliveries == []
    psp.resume_webhooks()
    assert psp.wait_for_webhooks(5) and len(receiver.deliveries) == 1


def test_a_processing_intent_announces_its_outcome_when_it_settles(psp: FakePsp, receiver: Receiver) -> None:
    psp.script("hook-settle", ["processing"])
    intent = pay(psp, "pm_card_visa", "hook-settle")
    assert intent.status == "processing" and psp.wait_for_webhooks(5) and receiver.deliveries == []
    client(psp).v1.payment_intents.retrieve(intent.id)
    assert psp.wait_for_webhooks(5)
    [event] = verified(receiver)
    assert (event.type, event.data.object.status) == ("payment_intent.succeeded", "succeeded")
    assert event.request is not None and event.request.id is None and psp.charges["hook-settle"] == 1
