"""The Stripe adapter learns Stripe's processing fee against the fake PSP: from the charge's balance transaction,
expanded in the answer of a call it makes anyway (the create, the capture, the GET after `processing`); a key first
used without the expand replayed as it was and read once more; no fee while there is no balance transaction
(asynchronous capture) or when it was settled in another currency."""

from __future__ import annotations

import stripe
from fake_psp import API_KEY, FakePsp
from fake_psp.balance import card_fee
from finalizer_testdata import stripe_on

from finalizer.domain.payment import PaymentToken, PspDecision
from payments_shared.ids import PaymentOrderId
from payments_shared.money import Money

EUR_12_34 = Money(1234, "EUR")
VISA = PaymentToken("pm_card_visa")


def test_an_approved_charge_carries_stripes_fee_from_the_creates_own_answer(psp: FakePsp) -> None:
    key = PaymentOrderId.new()
    result = stripe_on(psp).charge(key, EUR_12_34, "merchant-1", VISA)

    # stripe.com/pricing: "2.9% + 30¢ per successful transaction for domestic cards" (the fake's card fee)
    assert (result.decision, result.psp_fee) == (PspDecision.APPROVED, Money(card_fee(1234, 290, 30), "EUR"))
    assert psp.requests[key] == 1  # no request of its own: the create answered with the fee expanded


def test_a_declined_or_held_charge_carries_no_fee(psp: FakePsp) -> None:
    declined = stripe_on(psp).charge(PaymentOrderId.new(), EUR_12_34, "m", PaymentToken("pm_card_chargeDeclined"))
    held = stripe_on(psp).charge(PaymentOrderId.new(), EUR_12_34, "m", VISA, None, "manual")
    assert (declined.decision, declined.psp_fee) == (PspDecision.DECLINED, None)
    assert (held.decision, held.psp_fee) == (PspDecision.AUTHORIZED, None)


def test_a_capture_carries_the_fee_on_what_was_captured(psp: FakePsp) -> None:
    held = stripe_on(psp).charge(PaymentOrderId.new(), EUR_12_34, "m", VISA, None, "manual")
    assert held.psp_reference is not None
    result = stripe_on(psp).capture(held.psp_reference, Money(1000, "EUR"), "capture-fee")
    assert result.psp_fee == Money(card_fee(1000, 290, 30), "EUR")
    assert stripe_on(psp).capture(held.psp_reference, Money(1000, "EUR"), "capture-fee") == result  # replayed


def test_a_processing_intent_gets_its_fee_from_the_get_that_settles_it(psp: FakePsp) -> None:
    key = PaymentOrderId.new()
    psp.script(key, ["processing"])
    result = stripe_on(psp).charge(key, EUR_12_34, "merchant-1", VISA)
    assert (result.decision, result.psp_fee) == (PspDecision.APPROVED, Money(66, "EUR"))


def test_a_key_first_used_without_the_expand_is_replayed_as_it_was_and_read_once_more(psp: FakePsp) -> None:
    """A redelivery across the deploy: Stripe compares a key's parameters with its first request's."""
    key = PaymentOrderId.new()
    client = stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)
    first = client.v1.payment_intents.create(
        params={  # type: ignore[typeddict-unknown-key]
            "amount": 1234,
            "currency": "eur",
            "confirm": True,
            "payment_method_types": ["card"],
            "payment_method": "pm_card_visa",
            "metadata": {"payment_order_id": key, "merchant_id": "merchant-1"},
        },
        options={"idempotency_key": key},
    )

    result = stripe_on(psp).charge(key, EUR_12_34, "merchant-1", VISA)

    assert (result.psp_reference, result.psp_fee) == (first.id, Money(66, "EUR"))
    assert psp.intents[key] == 1 and psp.charges[key] == 1


def test_no_fee_while_the_charge_has_no_balance_transaction(psp: FakePsp) -> None:
    """Asynchronous capture: "The balance_transaction field on the Charge object might be null immediately after
    confirmation" (docs.stripe.com/payments/payment-intents/asynchronous-capture)."""
    result = stripe_on(psp).charge(PaymentOrderId.new(), EUR_12_34, "merchant-1", VISA)
    assert result.psp_reference is not None
    psp._charges[psp.intent(result.psp_reference)["latest_charge"]]["balance_transaction"] = None

    again = stripe_on(psp).retrieve(result.psp_reference)
    assert (again.decision, again.psp_fee) == (PspDecision.APPROVED, None)


def test_no_fee_for_a_charge_settled_in_another_currency(psp: FakePsp) -> None:
    """Stripe converts a charge to the account's settlement currency: its balance transaction (and fee) is in that
    currency, not the payment's, and is not booked."""
    result = stripe_on(psp).charge(PaymentOrderId.new(), EUR_12_34, "merchant-1", VISA)
    assert result.psp_reference is not None
    txn_id = psp.charge(psp.intent(result.psp_reference)["latest_charge"])["balance_transaction"]
    next(t for t in psp._balance if t["id"] == txn_id).update(currency="usd", amount=1340, fee=69, net=1271)

    assert stripe_on(psp).retrieve(result.psp_reference).psp_fee is None
