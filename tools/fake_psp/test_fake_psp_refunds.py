"""Refunds of the fake PSP, met through Stripe's own SDK: Stripe's rules for what a charge has left, idempotency
keys as for the other POSTs, and the refund-fail test card's later failure with its signed webhooks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import stripe

from fake_psp.server import API_KEY, REFUND_FAILURE_REASON, FakePsp
from payments_testing.loopback import LoopbackServer

SIGNING_KEY = "whsec_refund_receiver"


class Receiver:
    """A webhook endpoint on loopback that keeps each delivered event."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # - stdlib signature
                return

            def do_POST(self) -> None:  # - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stripe.Webhook.construct_event(body.decode(), self.headers["Stripe-Signature"], SIGNING_KEY)
                receiver.events.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = LoopbackServer(Handler).start()

    @property
    def url(self) -> str:
        return self._server.url("/webhooks")

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def psp(receiver: Receiver) -> Iterator[FakePsp]:
    running = FakePsp(
        webhook_url=receiver.url, webhook_secret=SIGNING_KEY, webhook_retry_base_s=0.02, refund_fail_after_s=None
    ).start()
    yield running
    running.stop()


def client(psp: FakePsp) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)


def paid(psp: FakePsp, payment_method: str = "pm_card_visa", amount: int = 1000) -> stripe.PaymentIntent:
    params: dict[str, Any] = {"amount": amount, "currency": "eur", "confirm": True, "payment_method": payment_method}
    return client(psp).v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def refund(psp: FakePsp, key: str | None = None, **params: Any) -> stripe.Refund:
    options: dict[str, Any] = {"idempotency_key": key} if key else {}
    return client(psp).v1.refunds.create(params=params, options=options)  # type: ignore[arg-type]


def refused(psp: FakePsp, **params: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        refund(psp, **params)
    return caught.value


def test_a_partial_then_the_rest_refunds_the_charge_and_marks_it_refunded(psp: FakePsp) -> None:
    intent = paid(psp)
    first = refund(psp, payment_intent=intent.id, amount=300, reason="requested_by_customer", metadata={"k": "v"})
    assert (first.object, first.status, first.amount, first.currency) == ("refund", "succeeded", 300, "eur")
    assert (first.payment_intent, first.charge, first.reason) == (
        intent.id,
        intent.latest_charge,
        "requested_by_customer",
    )
    assert first.id.startswith("re_") and first.metadata is not None and first.metadata.to_dict() == {"k": "v"}
    charge = psp.charge(str(intent.latest_charge))
    assert (charge["amount_refunded"], charge["refunded"]) == (300, False)
    rest = refund(psp, payment_intent=intent.id)  # no amount: what is left
    assert rest.amount == 700
    assert psp.charge(str(intent.latest_charge))["refunded"] is True


def test_more_than_is_left_is_refused_with_amount_too_large_and_nothing_moves(psp: FakePsp) -> None:
    intent = paid(psp)
    whole = refused(psp, payment_intent=intent.id, amount=1001)
    assert whole.code == "amount_too_large" and whole.http_status == 400
    assert "Refund amount (€10.01) is greater than charge amount (€10.00)" in str(whole.user_message)
    refund(psp, payment_intent=intent.id, amount=600)
    rest = refused(psp, payment_intent=intent.id, amount=500)
    assert rest.code == "amount_too_large"
    assert "greater than unrefunded amount on charge (€4.00)" in str(rest.user_message)
    assert psp.charge(str(intent.latest_charge))["amount_refunded"] == 600


def test_a_fully_refunded_charge_is_refused_with_charge_already_refunded(psp: FakePsp) -> None:
    intent = paid(psp)
    refund(psp, payment_intent=intent.id)
    again = refused(psp, payment_intent=intent.id, amount=1)
    assert again.code == "charge_already_refunded"
    assert f"Charge {intent.latest_charge} has already been refunded" in str(again.user_message)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"payment_intent": None}, "parameter_missing"),
        ({"payment_intent": "pi_nope"}, "resource_missing"),
        ({"amount": 0}, "parameter_invalid_integer"),
        ({"reason": "changed_my_mind"}, "parameter_invalid_empty"),
    ],
)
def test_bad_parameters_are_refused(psp: FakePsp, params: dict[str, Any], code: str) -> None:
    intent = paid(psp)
    call = {name: value for name, value in {"payment_intent": intent.id, **params}.items() if value is not None}
    assert refused(psp, **call).code == code
    assert sum(psp.refunds.values()) == 0


def test_only_a_succeeded_intent_is_refunded(psp: FakePsp) -> None:
    with pytest.raises(stripe.CardError) as declined:
        paid(psp, "pm_card_chargeDeclined")
    intent = declined.value.error.payment_intent if declined.value.error else None
    assert intent is not None
    assert refused(psp, payment_intent=intent.id).code == "payment_intent_unexpected_state"


def test_the_same_key_answers_the_same_refund_and_other_parameters_are_an_idempotency_error(psp: FakePsp) -> None:
    intent = paid(psp)
    first = refund(psp, "rf-1", payment_intent=intent.id, amount=100, metadata={"refund_id": "rf-1"})
    again = refund(psp, "rf-1", payment_intent=intent.id, amount=100, metadata={"refund_id": "rf-1"})
    assert again.id == first.id and psp.refunds["rf-1"] == 1
    assert psp.charge(str(intent.latest_charge))["amount_refunded"] == 100
    with pytest.raises(stripe.IdempotencyError):
        refund(psp, "rf-1", payment_intent=intent.id, amount=200, metadata={"refund_id": "rf-1"})
    assert psp.refunds["rf-1"] == 1


def test_a_refused_refund_is_not_stored_under_its_key(psp: FakePsp) -> None:
    intent = paid(psp)
    assert refused(psp, key="rf-2", payment_intent=intent.id, amount=5000).code == "amount_too_large"
    assert sum(psp.refunds.values()) == 0


def test_retrieve_and_list_an_intents_refunds_newest_first(psp: FakePsp) -> None:
    intent, other = paid(psp), paid(psp)
    made = [refund(psp, payment_intent=intent.id, amount=100) for _ in range(3)]
    refund(psp, payment_intent=other.id, amount=100)
    stripe_client = client(psp)
    assert stripe_client.v1.refunds.retrieve(made[0].id).amount == 100
    listed = stripe_client.v1.refunds.list(params={"payment_intent": intent.id, "limit": 2})
    assert [r.id for r in listed.data] == [made[2].id, made[1].id] and listed.has_more
    assert [r.id for r in listed.auto_paging_iter()] == [r.id for r in reversed(made)]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.refunds.retrieve("re_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_the_refund_fail_card_refunds_then_fails_and_sends_both_signed_events(psp: FakePsp, receiver: Receiver) -> None:
    intent = paid(psp, "pm_card_refundFail")
    taken = refund(psp, payment_intent=intent.id, amount=400)
    assert taken.status == "succeeded"
    failed = psp.fail_refund(taken.id)
    assert (failed["status"], failed["failure_reason"]) == ("failed", REFUND_FAILURE_REASON)
    assert client(psp).v1.refunds.retrieve(taken.id).status == "failed"
    assert psp.charge(str(intent.latest_charge))["amount_refunded"] == 0  # the money came back
    assert psp.wait_for_webhooks()
    about_refunds = [e for e in receiver.events if e["data"]["object"]["object"] == "refund"]
    delivered = [(e["type"], e["data"]["object"]["id"]) for e in about_refunds]
    assert delivered == [("refund.failed", taken.id), ("charge.refund.updated", taken.id)]
    assert all(e["data"]["object"]["status"] == "failed" for e in about_refunds)
    with pytest.raises(ValueError, match="failed"):
        psp.fail_refund(taken.id)  # fails once


def test_the_refund_fail_card_fails_by_itself_after_the_delay(receiver: Receiver) -> None:
    psp = FakePsp(webhook_url=receiver.url, webhook_secret=SIGNING_KEY, refund_fail_after_s=0.05).start()
    try:
        taken = refund(psp, payment_intent=paid(psp, "pm_card_refundFail").id)
        assert taken.status == "succeeded"
        deadline = time.monotonic() + 5
        while psp.refund(taken.id)["status"] != "failed" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert psp.refund(taken.id)["status"] == "failed"
        # An ordinary card's refund stays succeeded.
        kept = refund(psp, payment_intent=paid(psp).id)
        time.sleep(0.2)
        assert psp.refund(kept.id)["status"] == "succeeded"
    finally:
        psp.stop()
