"""The Stripe adapter's manual capture against the fake PSP: a hold (capture_method=manual → AUTHORIZED), a capture
of all or part of it (APPROVED with what Stripe received, in our minor units), a cancel with Stripe's reason, and an
intent that moved on meanwhile (captured, canceled, expired by Stripe) answered from its state."""

from __future__ import annotations

import fake_psp.server
import pytest
from fake_psp import AUTHORIZATION_WINDOW_S, FakePsp
from finalizer_testdata import stripe_on

from finalizer.domain.payment import PaymentToken, PspDecision
from finalizer.ports import PspOutcomeUnknown, PspRequestRefused
from payments_shared.ids import PaymentOrderId
from payments_shared.money import Money

EUR_12_34 = Money(1234, "EUR")


def held(psp: FakePsp, amount: Money = EUR_12_34, token: str = "pm_card_visa") -> str:  # noqa: S107 - a test PaymentMethod
    result = stripe_on(psp).charge(PaymentOrderId.new(), amount, "merchant-1", PaymentToken(token), None, "manual")
    assert result.decision == PspDecision.AUTHORIZED and result.psp_reference is not None
    return result.psp_reference


def test_a_manual_capture_charge_is_authorized_and_an_automatic_one_sends_no_capture_method(psp: FakePsp) -> None:
    intent = psp.intent(held(psp))
    assert (intent["capture_method"], intent["status"], intent["amount_capturable"]) == (
        "manual",
        "requires_capture",
        1234,
    )
    key = PaymentOrderId.new()
    assert stripe_on(psp).charge(key, EUR_12_34, "m", PaymentToken("pm_card_visa")).decision == PspDecision.APPROVED
    assert psp.intents_with(payment_order_id=key)[0]["capture_method"] == "automatic"


def test_a_partial_capture_is_approved_with_what_stripe_received(psp: FakePsp) -> None:
    intent_id = held(psp)

    result = stripe_on(psp).capture(intent_id, Money(1000, "EUR"), "capture-1")

    assert (result.decision, result.psp_reference, result.captured) == (
        PspDecision.APPROVED,
        intent_id,
        Money(1000, "EUR"),
    )
    again = stripe_on(psp).capture(intent_id, Money(1000, "EUR"), "capture-1")
    assert again == result and psp.requests["capture-1"] == 2  # replayed under the key, captured once


def test_a_captured_amount_comes_back_in_our_minor_units(psp: FakePsp) -> None:
    intent_id = held(psp, Money(500, "ISK"))  # Stripe writes ISK with two decimals: 50000

    assert psp.intent(intent_id)["amount"] == 50000
    assert stripe_on(psp).capture(intent_id, Money(300, "ISK"), "capture-isk").captured == Money(300, "ISK")


def test_a_capture_of_an_intent_captured_or_canceled_meanwhile_answers_with_its_state(psp: FakePsp) -> None:
    captured, canceled = held(psp), held(psp)
    stripe_on(psp).capture(captured, Money(600, "EUR"), "first")
    stripe_on(psp).cancel(canceled, "requested_by_customer", "cancel-1")

    again = stripe_on(psp).capture(captured, EUR_12_34, "a-later-key")  # Stripe: payment_intent_unexpected_state
    assert (again.decision, again.captured) == (PspDecision.APPROVED, Money(600, "EUR"))
    late = stripe_on(psp).capture(canceled, EUR_12_34, "capture-2")
    assert (late.decision, late.decline_code) == (PspDecision.DECLINED, "requested_by_customer")


def test_more_than_stripe_holds_is_a_refused_request(psp: FakePsp) -> None:
    with pytest.raises(PspRequestRefused):
        stripe_on(psp).capture(held(psp), Money(1235, "EUR"), "too-much")


def test_a_capture_stripe_never_answers_leaves_the_outcome_unknown(psp: FakePsp) -> None:
    intent_id = held(psp)
    psp.script("unanswered", ["503", "503", "503"])

    with pytest.raises(PspOutcomeUnknown):
        stripe_on(psp).capture(intent_id, EUR_12_34, "unanswered")

    assert psp.intent(intent_id)["status"] == "requires_capture"


def test_a_cancel_releases_with_stripes_reason_or_answers_with_a_capture_made_first(psp: FakePsp) -> None:
    released, captured = held(psp), held(psp)

    result = stripe_on(psp).cancel(released, "duplicate", "cancel-dup")
    assert (result.decision, result.decline_code) == (PspDecision.DECLINED, "duplicate")
    assert psp.intent(released)["cancellation_reason"] == "duplicate"

    stripe_on(psp).capture(captured, EUR_12_34, "capture-first")
    assert stripe_on(psp).cancel(captured, "abandoned", "cancel-late").decision == PspDecision.APPROVED


@pytest.mark.parametrize("stripes_reason", ["automatic", "expired"])
def test_an_authorization_stripe_expired_reads_as_expired(
    psp: FakePsp, monkeypatch: pytest.MonkeyPatch, stripes_reason: str
) -> None:
    # Stripe's internal cancellation_reasons include both; its docs do not say which an expired hold carries.
    monkeypatch.setattr(fake_psp.server, "EXPIRED_AUTHORIZATION_REASON", stripes_reason)
    now = psp.clock()
    intent_id = held(psp)
    psp.clock = lambda: now + AUTHORIZATION_WINDOW_S

    result = stripe_on(psp).retrieve(intent_id)

    assert (result.decision, result.decline_code) == (PspDecision.DECLINED, "expired")
    assert stripe_on(psp).cancel(intent_id, "abandoned", "cancel-expired").decline_code == "expired"
