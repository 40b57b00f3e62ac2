"""Payouts of the fake PSP's balance to the bank, met through Stripe's own SDK: at most the available balance
(balance_insufficient beyond it), the payout's balance transaction at once, pending → paid at arrival with a
signed payout.paid, a failure giving the money back (payout_failure) with payout.failed, idempotency keys as for
the other POSTs, and GET /v1/balance."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from fake_psp.balance import card_fee
from fake_psp.server import FakePsp
from fake_psp.test_fake_psp_refunds import SIGNING_KEY, Receiver, client, paid, refund

NOW = 1_800_000_000
FEE_1000 = card_fee(1000, 290, 30)  # 59: what a charge of 1000 leaves is 941


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def psp(receiver: Receiver) -> Iterator[FakePsp]:
    clock = [float(NOW)]
    running = FakePsp(
        clock=lambda: clock[0],
        webhook_url=receiver.url,
        webhook_secret=SIGNING_KEY,
        webhook_retry_base_s=0.02,
        settlement_delay_s=3600,
        payout_arrival_s=600,
        pay_payouts_after_s=None,  # only the clock pays them out
        refund_fail_after_s=None,
    ).start()
    running.test_clock = clock  # type: ignore[attr-defined]
    yield running
    running.stop()


def later(psp: FakePsp, seconds: int) -> None:
    psp.test_clock[0] += seconds  # type: ignore[attr-defined]


def pay_out(psp: FakePsp, key: str | None = None, **params: Any) -> stripe.Payout:
    options: dict[str, Any] = {"idempotency_key": key} if key else {}
    return client(psp).v1.payouts.create(params=params, options=options)  # type: ignore[arg-type]


def available(psp: FakePsp, currency: str = "eur") -> tuple[int, int]:
    balance = client(psp).v1.balance.retrieve()
    pick = lambda funds: next((f.amount for f in funds if f.currency == currency), 0)  # noqa: E731
    return pick(balance.available), pick(balance.pending)


def test_only_the_available_balance_is_paid_out_and_more_is_refused_with_stripes_error(psp: FakePsp) -> None:
    paid(psp, amount=1000)
    assert available(psp) == (0, 1000 - FEE_1000)  # pending until available_on
    with pytest.raises(stripe.InvalidRequestError) as early:
        pay_out(psp, amount=100, currency="eur")
    assert (early.value.code, early.value.http_status) == ("balance_insufficient", 400)
    later(psp, 3600)
    assert available(psp) == (1000 - FEE_1000, 0)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        pay_out(psp, amount=1000 - FEE_1000 + 1, currency="eur")
    assert too_much.value.code == "balance_insufficient"
    with pytest.raises(stripe.InvalidRequestError) as other_currency:
        pay_out(psp, amount=1, currency="usd")
    assert other_currency.value.code == "balance_insufficient"
    assert [t.type for t in client(psp).v1.balance_transactions.list().data] == ["charge"]  # nothing moved


def test_a_payout_takes_its_amount_at_once_and_is_paid_at_arrival_with_a_signed_webhook(
    psp: FakePsp, receiver: Receiver
) -> None:
    paid(psp, amount=1000)
    later(psp, 3600)
    payout = pay_out(psp, amount=900, currency="eur", metadata={"k": "v"})
    # fixtures3.json's payout: the fields Stripe shows, the status pending until it reaches the bank
    assert (payout.object, payout.amount, payout.currency, payout.status, payout.method) == (
        "payout",
        900,
        "eur",
        "pending",
        "standard",
    )
    assert payout.id.startswith("po_") and payout.arrival_date == NOW + 3600 + 600
    assert payout.failure_balance_transaction is None and payout.type == "bank_account"
    [txn] = client(psp).v1.balance_transactions.list(params={"type": "payout"}).data
    assert (txn.id, txn.amount, txn.fee, txn.net, txn.reporting_category, txn.source) == (
        payout.balance_transaction,
        -900,
        0,
        -900,
        "payout",
        payout.id,
    )
    assert available(psp) == (1000 - FEE_1000 - 900, 0)
    assert client(psp).v1.payouts.retrieve(payout.id).status == "pending"
    later(psp, 600)
    assert client(psp).v1.payouts.retrieve(payout.id).status == "paid"
    assert psp.wait_for_webhooks()
    delivered = [e for e in receiver.events if e["type"].startswith("payout.")]
    assert [(e["type"], e["data"]["object"]["id"], e["data"]["object"]["status"]) for e in delivered] == [
        ("payout.paid", payout.id, "paid")
    ]


def test_a_failed_payout_gives_the_money_back_and_says_so(psp: FakePsp, receiver: Receiver) -> None:
    paid(psp, amount=1000)
    later(psp, 3600)
    payout = pay_out(psp, amount=500, currency="eur")
    later(psp, 600)
    assert psp.payout(payout.id)["status"] == "paid"
    # "Some payouts that fail might initially show as paid, then change to failed."
    failed = psp.fail_payout(payout.id)
    assert (failed["status"], failed["failure_code"]) == ("failed", "account_closed")
    newest_first = client(psp).v1.balance_transactions.list().data
    assert [(t.type, t.reporting_category, t.amount, t.source) for t in newest_first[:2]] == [
        ("payout_failure", "payout_reversal", 500, payout.id),
        ("payout", "payout", -500, payout.id),
    ]
    assert newest_first[0].id == failed["failure_balance_transaction"]
    assert available(psp) == (1000 - FEE_1000, 0)
    with pytest.raises(ValueError):
        psp.fail_payout(payout.id)  # failed is final
    assert psp.wait_for_webhooks()
    assert [e["type"] for e in receiver.events if e["type"].startswith("payout.")] == ["payout.paid", "payout.failed"]


def test_debits_count_against_available_at_once(psp: FakePsp) -> None:
    intent = paid(psp, amount=1000)
    later(psp, 3600)
    refund(psp, payment_intent=intent.id, amount=400)
    assert available(psp) == (1000 - FEE_1000 - 400, 0)
    with pytest.raises(stripe.InvalidRequestError):
        pay_out(psp, amount=1000 - FEE_1000, currency="eur")


def test_a_key_replays_its_payout_and_another_payload_under_it_is_refused(psp: FakePsp) -> None:
    paid(psp, amount=1000)
    later(psp, 3600)
    first = pay_out(psp, "po-key-1", amount=300, currency="eur")
    again = pay_out(psp, "po-key-1", amount=300, currency="eur")
    assert again.id == first.id
    assert len(client(psp).v1.balance_transactions.list(params={"type": "payout"}).data) == 1
    with pytest.raises(stripe.IdempotencyError):
        pay_out(psp, "po-key-1", amount=301, currency="eur")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        pay_out(psp, "po-key-2", amount=0, currency="eur")
    assert refused.value.param == "amount"


def test_payouts_are_listed_newest_first_and_an_unknown_one_is_missing(psp: FakePsp) -> None:
    paid(psp, amount=1000)
    later(psp, 3600)
    ids = [pay_out(psp, amount=100, currency="eur").id for _ in range(3)]
    page = client(psp).v1.payouts.list(params={"limit": 2})
    assert page.has_more and [p.id for p in page.data] == ids[::-1][:2]
    assert client(psp).v1.payouts.list(params={"status": "paid"}).data == []
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client(psp).v1.payouts.retrieve("po_nope")
    assert missing.value.code == "resource_missing"


def test_the_timer_pays_a_payout_out_without_the_clock_moving() -> None:
    running = FakePsp(settlement_delay_s=0, pay_payouts_after_s=0.05).start()
    try:
        paid(running, amount=1000)
        payout = pay_out(running, amount=500, currency="eur")
        deadline = time.monotonic() + 10
        while running.payout(payout.id)["status"] != "paid" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert running.payout(payout.id)["status"] == "paid"
        assert [e["type"] for e in running.webhook_events if e["type"].startswith("payout.")] == [
            "payout.created",
            "payout.updated",
            "payout.paid",
        ]
    finally:
        running.stop()
