"""Disputes of the fake PSP, met through Stripe's own SDK: the dispute test card's charge succeeds and is disputed
(amount and dispute fee withdrawn), test mode's evidence decides it (winning_evidence → won, the amount reinstated
but not the fee; losing_evidence or accepting it → lost), and charge.dispute.created/closed arrive signed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from fake_psp.disputes import DISPUTE_REASON, dispute_fee
from fake_psp.server import API_KEY, FakePsp
from fake_psp.test_fake_psp_refunds import SIGNING_KEY, Receiver, client, paid


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def psp(receiver: Receiver) -> Iterator[FakePsp]:
    running = FakePsp(webhook_url=receiver.url, webhook_secret=SIGNING_KEY, webhook_retry_base_s=0.02).start()
    yield running
    running.stop()


def disputed(psp: FakePsp, amount: int = 2500) -> tuple[stripe.PaymentIntent, stripe.Dispute]:
    intent = paid(psp, "pm_card_createDispute", amount)
    listed = client(psp).v1.disputes.list(params={"payment_intent": intent.id})
    assert len(listed.data) == 1
    return intent, listed.data[0]


def update(psp: FakePsp, dispute_id: str, key: str | None = None, **params: Any) -> stripe.Dispute:
    options: dict[str, Any] = {"idempotency_key": key} if key else {}
    return client(psp).v1.disputes.update(dispute_id, params=params, options=options)  # type: ignore[arg-type]


def delivered(receiver: Receiver, dispute_id: str) -> list[tuple[str, str]]:
    return [
        (e["type"], e["data"]["object"]["status"])
        for e in receiver.events
        if e["data"]["object"].get("object") == "dispute" and e["data"]["object"]["id"] == dispute_id
    ]


def test_the_dispute_card_succeeds_then_is_disputed_for_the_amount_and_the_fee(
    psp: FakePsp, receiver: Receiver
) -> None:
    intent, dispute = disputed(psp)
    assert intent.status == "succeeded"
    assert dispute.id.startswith("dp_") and dispute.object == "dispute"
    assert (dispute.amount, dispute.currency, dispute.charge, dispute.payment_intent) == (
        2500,
        "eur",
        intent.latest_charge,
        intent.id,
    )
    assert (dispute.status, dispute.reason) == ("needs_response", DISPUTE_REASON)
    [withdrawal] = dispute.balance_transactions
    fee = dispute_fee("eur")
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (-2500, fee, -2500 - fee)
    assert psp.charge(str(intent.latest_charge))["disputed"] is True
    assert client(psp).v1.disputes.retrieve(dispute.id).status == "needs_response"
    assert psp.wait_for_webhooks()
    assert delivered(receiver, dispute.id) == [("charge.dispute.created", "needs_response")]
    # The dispute comes after the payment's own success.
    types = [e["type"] for e in psp.webhook_events]
    assert types.index("payment_intent.succeeded") < types.index("charge.dispute.created")


def test_an_ordinary_card_is_not_disputed(psp: FakePsp) -> None:
    intent = paid(psp)
    assert client(psp).v1.disputes.list(params={"payment_intent": intent.id}).data == []


def test_winning_evidence_wins_it_and_reinstates_the_amount_but_not_the_dispute_fee(
    psp: FakePsp, receiver: Receiver
) -> None:
    _, dispute = disputed(psp)
    won = update(psp, dispute.id, evidence={"uncategorized_text": "winning_evidence"})
    assert won.status == "won" and won.evidence.uncategorized_text == "winning_evidence"
    withdrawal, reinstatement = won.balance_transactions
    assert (reinstatement.amount, reinstatement.fee, reinstatement.net) == (2500, 0, 2500)
    assert withdrawal.net + reinstatement.net == -dispute_fee("eur")  # the fee is the merchant's cost
    assert psp.wait_for_webhooks()
    assert delivered(receiver, dispute.id) == [
        ("charge.dispute.created", "needs_response"),
        ("charge.dispute.closed", "won"),
    ]


def test_losing_evidence_loses_it_and_nothing_comes_back(psp: FakePsp, receiver: Receiver) -> None:
    _, dispute = disputed(psp)
    lost = update(psp, dispute.id, evidence={"uncategorized_text": "losing_evidence"})
    assert lost.status == "lost" and len(lost.balance_transactions) == 1
    assert psp.wait_for_webhooks()
    assert delivered(receiver, dispute.id)[-1] == ("charge.dispute.closed", "lost")


def test_closing_accepts_it_as_lost_and_a_closed_dispute_cannot_change(psp: FakePsp) -> None:
    _, dispute = disputed(psp)
    assert client(psp).v1.disputes.close(dispute.id).status == "lost"
    with pytest.raises(stripe.InvalidRequestError) as again:
        client(psp).v1.disputes.close(dispute.id)
    assert again.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError):
        update(psp, dispute.id, evidence={"uncategorized_text": "winning_evidence"})
    assert psp.dispute(dispute.id)["status"] == "lost"


def test_other_evidence_puts_it_under_review_and_an_unsubmitted_one_is_only_saved(psp: FakePsp) -> None:
    _, dispute = disputed(psp)
    saved = update(psp, dispute.id, evidence={"customer_name": "Jo"}, submit=False)
    assert saved.status == "needs_response" and saved.evidence_details.submission_count == 0
    reviewed = update(psp, dispute.id, evidence={"product_description": "a lamp"})
    assert reviewed.status == "under_review" and reviewed.evidence_details.submission_count == 1
    assert update(psp, dispute.id, evidence={"uncategorized_text": "winning_evidence"}).status == "won"


def test_a_replayed_update_answers_the_same_and_bad_input_is_refused(psp: FakePsp) -> None:
    _, dispute = disputed(psp)
    first = update(psp, dispute.id, "dp-key", evidence={"uncategorized_text": "winning_evidence"})
    again = update(psp, dispute.id, "dp-key", evidence={"uncategorized_text": "winning_evidence"})
    assert first.status == again.status == "won" and len(again.balance_transactions) == 2
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        update(psp, disputed(psp)[1].id, evidence={"favourite_colour": "blue"})
    assert unknown.value.param == "evidence[favourite_colour]"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client(psp).v1.disputes.retrieve("dp_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


@pytest.mark.parametrize("close_as", [None, "winning_evidence", "losing_evidence"])
def test_a_charged_back_charge_is_refused_a_refund_with_charge_disputed_and_nothing_moves(
    psp: FakePsp, close_as: str | None
) -> None:
    # docs.stripe.com/error-codes: charge_disputed, "The charge you're attempting to refund has been charged back";
    # the chargeback's Dispute.is_charge_refundable is false ("If true, it's still possible to refund").
    intent, dispute = disputed(psp)
    assert dispute.is_charge_refundable is False
    if close_as is not None:
        update(psp, dispute.id, evidence={"uncategorized_text": close_as})
    before = len(client(psp).v1.balance_transactions.list().data)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(psp).v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    assert (refused.value.http_status, refused.value.code) == (400, "charge_disputed")
    assert "charged back" in str(refused.value.user_message)
    assert psp.charge(str(intent.latest_charge))["amount_refunded"] == 0
    assert client(psp).v1.refunds.list(params={"payment_intent": intent.id}).data == []
    assert len(client(psp).v1.balance_transactions.list().data) == before


def test_no_key_no_disputes() -> None:
    psp = FakePsp().start()
    try:
        with pytest.raises(stripe.AuthenticationError):
            stripe.StripeClient("sk_test_wrong", base_addresses={"api": psp.url}).v1.disputes.list()
        assert stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}).v1.disputes.list().data == []
    finally:
        psp.stop()
