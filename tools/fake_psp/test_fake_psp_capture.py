"""Manual capture on the fake PSP, met through Stripe's own SDK: an authorization held (requires_capture), captured
in full or in part (the rest released), canceled, or canceled by Stripe itself once its 7-day window passes; refunds
bounded by what was captured; idempotency keys as for the other POSTs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from fake_psp.server import API_KEY, AUTHORIZATION_WINDOW_S, FakePsp


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def psp(clock: Clock) -> Iterator[FakePsp]:
    running = FakePsp(clock=clock).start()
    yield running
    running.stop()


def client(psp: FakePsp) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)


def authorized(psp: FakePsp, amount: int = 1000, payment_method: str = "pm_card_visa") -> stripe.PaymentIntent:
    params: dict[str, Any] = {
        "amount": amount,
        "currency": "eur",
        "confirm": True,
        "payment_method": payment_method,
        "capture_method": "manual",
    }
    return client(psp).v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def capture(psp: FakePsp, intent_id: str, key: str | None = None, **params: Any) -> stripe.PaymentIntent:
    options: dict[str, Any] = {"idempotency_key": key} if key else {}
    return client(psp).v1.payment_intents.capture(intent_id, params=params, options=options)  # type: ignore[arg-type]


def test_a_manual_capture_intent_holds_the_amount_uncaptured(psp: FakePsp) -> None:
    intent = authorized(psp, 1000)

    assert (intent.status, intent.capture_method) == ("requires_capture", "manual")
    assert (intent.amount_capturable, intent.amount_received) == (1000, 0)
    charge = psp.charge(str(intent.latest_charge))
    assert (charge["captured"], charge["amount_captured"], charge["amount_refunded"]) == (False, 0, 0)
    assert [e["type"] for e in psp.webhook_events][-1] == "payment_intent.amount_capturable_updated"


def test_a_declined_card_is_declined_with_manual_capture_too(psp: FakePsp) -> None:
    with pytest.raises(stripe.CardError) as declined:
        authorized(psp, payment_method="pm_card_chargeDeclined")

    assert declined.value.code == "card_declined"


def test_an_unknown_capture_method_is_refused_naming_it(psp: FakePsp) -> None:
    params: dict[str, Any] = {
        "amount": 1000,
        "currency": "eur",
        "confirm": True,
        "payment_method": "pm_card_visa",
        "capture_method": "later",
    }
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(psp).v1.payment_intents.create(params=params)  # type: ignore[arg-type]

    assert refused.value.param == "capture_method"


def test_a_full_capture_receives_the_whole_amount(psp: FakePsp) -> None:
    intent = authorized(psp, 1000)

    captured = capture(psp, intent.id)

    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 1000, 0)
    charge = psp.charge(str(intent.latest_charge))
    assert (charge["captured"], charge["amount_captured"], charge["amount_refunded"]) == (True, 1000, 0)


def test_a_partial_capture_releases_the_rest_and_bounds_refunds(psp: FakePsp) -> None:
    intent = authorized(psp, 1000)

    captured = capture(psp, intent.id, amount_to_capture=600)

    assert (captured.status, captured.amount_received) == ("succeeded", 600)
    charge = psp.charge(str(intent.latest_charge))
    assert (charge["amount_captured"], charge["amount_refunded"]) == (600, 400)
    with pytest.raises(stripe.InvalidRequestError) as too_large:
        client(psp).v1.refunds.create(params={"payment_intent": intent.id, "amount": 601})
    assert too_large.value.code == "amount_too_large"
    refund = client(psp).v1.refunds.create(params={"payment_intent": intent.id})
    assert refund.amount == 600


def test_more_than_the_capturable_amount_is_refused_and_nothing_changes(psp: FakePsp) -> None:
    intent = authorized(psp, 1000)

    with pytest.raises(stripe.InvalidRequestError) as refused:
        capture(psp, intent.id, amount_to_capture=1001)

    assert (refused.value.code, refused.value.param) == ("amount_too_large", "amount_to_capture")
    assert psp.intent(intent.id)["status"] == "requires_capture"


def test_a_capture_in_another_state_is_refused_with_the_intent(psp: FakePsp) -> None:
    paid = client(psp).v1.payment_intents.create(
        params={"amount": 1000, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"}
    )

    with pytest.raises(stripe.InvalidRequestError) as refused:
        capture(psp, paid.id)

    assert refused.value.code == "payment_intent_unexpected_state"
    assert refused.value.error is not None and refused.value.error.payment_intent is not None
    assert refused.value.error.payment_intent.status == "succeeded"


def test_a_capture_twice_with_one_key_captures_once(psp: FakePsp) -> None:
    intent = authorized(psp, 1000)

    first = capture(psp, intent.id, "cap-1", amount_to_capture=500)
    again = capture(psp, intent.id, "cap-1", amount_to_capture=500)

    assert (first.amount_received, again.amount_received) == (500, 500)
    assert again.last_response is not None and again.last_response.headers.get("Idempotent-Replayed") == "true"
    with pytest.raises(stripe.InvalidRequestError):  # another key: a second capture, which Stripe refuses
        capture(psp, intent.id, "cap-2", amount_to_capture=500)


def test_a_cancel_releases_the_authorization(psp: FakePsp) -> None:
    intent = authorized(psp, 1000)

    canceled = client(psp).v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "requested_by_customer"})

    assert (canceled.status, canceled.cancellation_reason, canceled.amount_capturable) == (
        "canceled",
        "requested_by_customer",
        0,
    )
    assert psp.charge(str(intent.latest_charge))["refunded"] is True
    with pytest.raises(stripe.InvalidRequestError) as refused:
        capture(psp, intent.id)
    assert refused.value.code == "payment_intent_unexpected_state"


def test_an_uncaptured_authorization_is_not_refunded_but_left_to_cancel(psp: FakePsp) -> None:
    # Stripe releases a hold by a cancel ("For PaymentIntents with a status of requires_capture, the remaining
    # amount_capturable is automatically refunded", docs.stripe.com/api/payment_intents/cancel); a Refund is of a
    # charge a PaymentIntent captured. The refusal keeps the hold as it was.
    intent = authorized(psp, 1000)

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(psp).v1.refunds.create(params={"payment_intent": intent.id})

    assert (refused.value.http_status, refused.value.code) == (400, "payment_intent_unexpected_state")
    assert f"This PaymentIntent ({intent.id}) does not have a successful charge to refund" in str(
        refused.value.user_message
    )
    held = psp.intent(intent.id)
    assert (held["status"], held["amount_capturable"]) == ("requires_capture", 1000)
    assert psp.charge(str(intent.latest_charge))["amount_refunded"] == 0
    assert sum(psp.refunds.values()) == 0


def test_stripe_cancels_an_authorization_left_past_seven_days(psp: FakePsp, clock: Clock) -> None:
    intent = authorized(psp, 1000)
    clock.now += AUTHORIZATION_WINDOW_S - 1
    assert client(psp).v1.payment_intents.retrieve(intent.id).status == "requires_capture"

    clock.now += 1

    expired = client(psp).v1.payment_intents.retrieve(intent.id)
    assert (expired.status, expired.cancellation_reason, expired.amount_capturable) == ("canceled", "automatic", 0)
    assert [e["type"] for e in psp.webhook_events][-1] == "payment_intent.canceled"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        capture(psp, intent.id)
    assert refused.value.code == "payment_intent_unexpected_state"


def test_expire_authorizations_cancels_only_those_past_the_window(psp: FakePsp, clock: Clock) -> None:
    old = authorized(psp, 1000)
    clock.now += AUTHORIZATION_WINDOW_S / 2
    young = authorized(psp, 1000)
    clock.now += AUTHORIZATION_WINDOW_S / 2

    assert psp.expire_authorizations() == [old.id]
    assert psp.intent(young.id)["status"] == "requires_capture"


def test_an_authentication_then_authorizes_a_manual_capture_intent(psp: FakePsp) -> None:
    intent = authorized(psp, 1000, "pm_card_authenticationRequired")
    assert intent.status == "requires_action"

    assert psp.authenticate(intent.id, succeed=True)["status"] == "requires_capture"
