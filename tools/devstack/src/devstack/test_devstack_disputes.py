"""The local run's disputes on the fake PSP: each plan closes its dispute as Stripe's test mode does, and what the
books must then hold less is the amount and fee of an open or lost dispute, the fee alone of a won one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from fake_psp import API_KEY, FakePsp, dispute_fee

from devstack.disputes import close_some


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    running = FakePsp().start()
    yield running
    running.stop()


def test_each_plan_closes_its_dispute_and_the_books_expect_what_stripe_kept(psp: FakePsp) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)
    final = {}
    for n in range(12):
        order_id = f"order-{n:02d}"
        params = {
            "amount": 1000,
            "currency": "eur",
            "confirm": True,
            "payment_method": "pm_card_createDispute" if n % 2 == 0 else "pm_card_visa",
            "metadata": {"payment_order_id": order_id},
        }
        client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
        final[order_id] = {"status": "SUCCESS", "merchant_id": "m-1", "currency": "EUR", "amount": "10.00"}
    disputes = close_some(psp, final, seed=7)
    assert disputes.unexpected == [] and len(disputes.found) == 6  # only the dispute card's payments
    fee = dispute_fee("eur")
    expected = 0
    for dispute_id, facts in disputes.found.items():
        status = psp.dispute(dispute_id)["status"]
        assert status == {"win": "won", "lose": "lost", "keep-open": "needs_response"}[facts.plan]
        assert (facts.amount_minor, facts.fee_minor) == (1000, fee)
        expected += fee if facts.plan == "win" else 1000 + fee
    assert disputes.taken_minor() == {("m-1", "EUR"): expected}


def test_a_run_that_closes_none_expects_every_dispute_open(psp: FakePsp) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)
    params = {"amount": 500, "currency": "eur", "confirm": True, "payment_method": "pm_card_createDispute"}
    params["metadata"] = {"payment_order_id": "order-1"}
    client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    final = {"order-1": {"status": "SUCCESS", "merchant_id": "m-1", "currency": "EUR", "amount": "5.00"}}
    found = close_some(psp, final, seed=1, close=False)
    assert found.plans() == {"keep-open": 1} and [
        d["status"] for d in psp.disputes_of(psp.intents_with(payment_order_id="order-1")[0]["id"])
    ] == ["needs_response"]
    assert found.taken_minor() == {("m-1", "EUR"): 500 + dispute_fee("eur")}
