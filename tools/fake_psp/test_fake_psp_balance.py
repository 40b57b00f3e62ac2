"""Balance transactions of the fake PSP, read through Stripe's own SDK (BalanceTransaction list): one per captured
charge with Stripe's processing fee, per refund (fee kept), per failed refund (the money back), per dispute
withdrawal and reinstatement (the Dispute's own); available_on is created + the settlement delay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from fake_psp.balance import card_fee
from fake_psp.disputes import dispute_fee
from fake_psp.server import FakePsp
from fake_psp.test_fake_psp_capture import authorized, capture
from fake_psp.test_fake_psp_refunds import client, paid, refund

NOW = 1_800_000_000


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    clock = [float(NOW)]
    running = FakePsp(clock=lambda: clock[0], refund_fail_after_s=None, settlement_delay_s=3600).start()
    running.test_clock = clock  # type: ignore[attr-defined]
    yield running
    running.stop()


def listed(psp: FakePsp, **params: Any) -> list[stripe.BalanceTransaction]:
    page = client(psp).v1.balance_transactions.list(params=params)  # type: ignore[arg-type]
    return list(page.auto_paging_iter())


def test_a_charge_books_its_amount_with_stripes_fee_pending_until_available_on(psp: FakePsp) -> None:
    intent = paid(psp, amount=1000)
    charge_id = str(intent.latest_charge)
    [txn] = listed(psp)
    # stripe.com/pricing: "2.9% + 30¢ per successful transaction for domestic cards"
    assert card_fee(1000, 290, 30) == 59
    assert (txn.object, txn.type, txn.reporting_category, txn.source) == (
        "balance_transaction",
        "charge",
        "charge",
        charge_id,
    )
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (1000, 59, 941, "eur")
    assert [(f.type, f.amount) for f in txn.fee_details] == [("stripe_fee", 59)]
    assert txn.id.startswith("txn_") and psp.charge(charge_id)["balance_transaction"] == txn.id
    assert (txn.created, txn.available_on, txn.status) == (NOW, NOW + 3600, "pending")
    psp.test_clock[0] = NOW + 3600  # type: ignore[attr-defined]
    assert listed(psp)[0].status == "available"


def test_an_authorization_moves_nothing_until_captured(psp: FakePsp) -> None:
    intent = authorized(psp, 1000)
    assert listed(psp) == []
    capture(psp, intent.id, amount_to_capture=600)
    assert [(t.type, t.amount, t.fee) for t in listed(psp)] == [("charge", 600, card_fee(600, 290, 30))]


def test_a_refund_and_its_failure_book_the_money_out_and_back_without_fee(psp: FakePsp) -> None:
    intent = paid(psp, "pm_card_refundFail", amount=1000)
    taken = refund(psp, payment_intent=intent.id, amount=400)
    failed = psp.fail_refund(taken.id)
    newest_first = listed(psp)
    assert [(t.type, t.reporting_category, t.amount, t.fee, t.source) for t in newest_first] == [
        ("payment_failure_refund", "refund_failure", 400, 0, taken.id),
        ("refund", "refund", -400, 0, taken.id),
        ("charge", "charge", 1000, card_fee(1000, 290, 30), str(intent.latest_charge)),
    ]
    assert newest_first[1].id == taken.balance_transaction
    assert newest_first[0].id == failed["failure_balance_transaction"]


def test_a_dispute_lists_the_disputes_own_transactions(psp: FakePsp) -> None:
    intent = paid(psp, "pm_card_createDispute", amount=2500)
    [dispute] = client(psp).v1.disputes.list(params={"payment_intent": intent.id}).data
    won = client(psp).v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "winning_evidence"}})
    adjustments = listed(psp, type="adjustment")
    assert [t.id for t in reversed(adjustments)] == [t.id for t in won.balance_transactions]
    assert [(t.amount, t.fee, t.reporting_category, t.source) for t in adjustments] == [
        (2500, 0, "dispute_reversal", dispute.id),
        (-2500, dispute_fee("eur"), "dispute", dispute.id),
    ]


def test_pages_filters_and_refusals_are_stripes(psp: FakePsp) -> None:
    intents = [paid(psp, amount=100 + i) for i in range(3)]
    page = client(psp).v1.balance_transactions.list(params={"limit": 2})
    assert page.has_more and [t.amount for t in page.data] == [102, 101]
    rest = client(psp).v1.balance_transactions.list(params={"limit": 2, "starting_after": page.data[-1].id})
    assert not rest.has_more and [t.amount for t in rest.data] == [100]
    assert [t.amount for t in listed(psp, source=str(intents[1].latest_charge))] == [101]
    assert listed(psp, type="refund") == []
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client(psp).v1.balance_transactions.list(params={"limit": 101})
    assert caught.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client(psp).v1.balance_transactions.list(params={"starting_after": "txn_nope"})
    assert (missing.value.param, missing.value.code) == ("starting_after", "resource_missing")
