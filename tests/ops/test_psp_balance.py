"""The PSP's balance as reconciliation reads it: Stripe's balance transactions, page by page through its SDK (here
against the fake PSP), each as psp_clearing movements: a charge gross and Stripe's fee kept of it, refunds out,
disputes with their fee, payouts to our bank out and their failures back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from fake_psp import FakePsp
from fake_psp.balance import card_fee
from ops.psp_balance import balance_movements

from payments_testing.psp import charge_directly

APPROVED, DECLINED = "4242424242424242", "4000000000009995"


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    running = FakePsp(raw_card_access=True).start()
    yield running
    running.stop()


def test_every_transaction_is_read_across_pages_a_charge_with_stripes_fee(psp: FakePsp) -> None:
    for order, card, amount in (("p-1", APPROVED, 500), ("p-2", DECLINED, 700), ("p-3", APPROVED, 1250)):
        charge_directly(psp.url, psp.api_key, order, amount, "EUR", card=card, idempotency_key=order)
    intent_id = next(i["id"] for i in psp.intents_with(payment_order_id="p-3"))
    stripe.StripeClient(psp.api_key, base_addresses={"api": psp.url}).v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 250}
    )

    found = balance_movements(psp.api_key, api_base=psp.url, page_size=1)  # three pages
    assert [(m.kind, m.amount_minor, m.currency) for m in found] == [
        ("refund", -250, "EUR"),  # no fee on a refund: Stripe keeps the charge's
        ("charge", 1250, "EUR"),
        ("psp_fee", -card_fee(1250, 290, 30), "EUR"),
        ("charge", 500, "EUR"),
        ("psp_fee", -card_fee(500, 290, 30), "EUR"),
    ]
    charge, fee = found[1:3]
    assert fee.ref == charge.ref and charge.ref.startswith("ch_")  # both named by the charge and its transaction


def test_a_wrong_key_is_refused_not_read_as_an_empty_balance(psp: FakePsp) -> None:
    with pytest.raises(stripe.AuthenticationError):
        balance_movements("sk_test_wrong", api_base=psp.url)


def test_stripes_payout_to_our_bank_and_its_failure_are_read_as_psp_clearing_moves() -> None:
    running = FakePsp(raw_card_access=True, settlement_delay_s=0, pay_payouts_after_s=None).start()
    try:
        charge_directly(running.url, running.api_key, "p-1", 1000, "EUR", card=APPROVED, idempotency_key="p-1")
        client = stripe.StripeClient(running.api_key, base_addresses={"api": running.url})
        payout = client.v1.payouts.create(params={"amount": 600, "currency": "eur"})
        running.fail_payout(payout.id)
        found = balance_movements(running.api_key, api_base=running.url)
        charge = str(running.intents_with(payment_order_id="p-1")[0]["latest_charge"])
        assert [(m.kind, m.amount_minor, m.ref.split()[0]) for m in found] == [
            ("payout_reversal", 600, payout.id),  # type payout_failure: the money back on the balance
            ("payout", -600, payout.id),
            ("charge", 1000, charge),
            ("psp_fee", -card_fee(1000, 290, 30), charge),
        ]
    finally:
        running.stop()


def test_a_payout_still_on_its_way_is_left_out_until_stripe_says_how_it_went() -> None:
    clock = [1_800_000_000.0]
    running = FakePsp(raw_card_access=True, clock=lambda: clock[0], settlement_delay_s=0, pay_payouts_after_s=None)
    running.start()
    try:
        charge_directly(running.url, running.api_key, "p-1", 1000, "EUR", card=APPROVED, idempotency_key="p-1")
        client = stripe.StripeClient(running.api_key, base_addresses={"api": running.url})
        payout = client.v1.payouts.create(params={"amount": 600, "currency": "eur"})
        pending = [m.kind for m in balance_movements(running.api_key, api_base=running.url)]
        assert pending == ["charge", "psp_fee"]  # the payout is on its way
        clock[0] = payout.arrival_date  # it reached the bank: payout.paid, and the ledger books it
        kinds = [m.kind for m in balance_movements(running.api_key, api_base=running.url)]
        assert kinds == ["payout", "charge", "psp_fee"]
    finally:
        running.stop()
