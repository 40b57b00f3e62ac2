"""The local run's end on the fake PSP: the PSP's available balance is paid out to our bank per currency and
paid, and the ledger/psp comparison the report ends with names nothing when the ledger booked every move as the
PSP's balance transactions show it, and names what it lacks otherwise (the payout's entry, here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from fake_psp import API_KEY, FakePsp
from fake_psp.balance import card_fee

from devstack.psp_payouts import pay_out_the_psp, psp_differences
from payments_shared.events import TraceContext
from payments_shared.eventstore.port import StoredEvent
from payments_shared.ids import EventId


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    running = FakePsp(settlement_delay_s=0, pay_payouts_after_s=0.05).start()
    yield running
    running.stop()


def entry(entry_type: str, key: str, clearing_side: str, minor: int, currency: str, other: str) -> StoredEvent:
    """A ledger entry as stored: psp_clearing on one side, `other` on the other."""
    data: dict[str, Any] = {
        "payment_order_id": key if entry_type == "capture" else "",
        "source_event_id": "e",
        "entry_type": entry_type,
        "entry_key": key,
        "postings": [
            {"account": "psp_clearing", "side": clearing_side, "amount_minor": minor, "currency": currency},
            {
                "account": other,
                "side": "CREDIT" if clearing_side == "DEBIT" else "DEBIT",
                "amount_minor": minor,
                "currency": currency,
            },
        ],
    }
    at = datetime(2026, 12, 6, tzinfo=UTC)
    stream = f"journal-{entry_type}-{key}"
    return StoredEvent(stream, 1, EventId.new(), "JournalEntryPosted", data, at, "c", None, TraceContext())


def capture_carrying_fee(key: str, minor: int, psp_fee: int, currency: str) -> StoredEvent:
    """Today's capture entry (since 2026-12-06): Stripe's fee in it, psp_fees DEBIT and psp_clearing CREDIT."""
    capture = entry("capture", key, "DEBIT", minor, currency, "merchant_payable:m-1")
    fee = entry("psp_fee", key, "CREDIT", psp_fee, currency, "psp_fees")
    return replace(capture, data={**capture.data, "postings": [*capture.data["postings"], *fee.data["postings"]]})


def test_the_available_balance_is_paid_out_per_currency_and_the_books_then_agree_with_the_psp(psp: FakePsp) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)
    for currency, amount in (("eur", 1000), ("gbp", 700)):
        params = {"amount": amount, "currency": currency, "confirm": True, "payment_method": "pm_card_visa"}
        client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    done = pay_out_the_psp(psp)
    assert done.unexpected == []
    assert [(p["currency"], p["status"]) for p in done.made] == [("EUR", "pending"), ("GBP", "pending")]
    assert all(psp.payout(p["payout_id"])["status"] == "paid" for p in done.made)
    assert {c: f["available"] for c, f in psp.balance().items()} == {"eur": 0, "gbp": 0}

    # Stripe's processing fee on each charge: in today's capture entry (EUR), or an older payment's own psp_fee entry
    # (GBP, psp_fees DEBIT, psp_clearing CREDIT): the run's "ledger = PSP balance" holds for both.
    captures = [capture_carrying_fee("p-eur", 1000, card_fee(1000, 290, 30), "EUR")]
    captures += [entry("capture", "p-gbp", "DEBIT", 700, "GBP", "merchant_payable:m-1")]
    captures += [entry("psp_fee", "p-gbp", "CREDIT", card_fee(700, 290, 30), "GBP", "psp_fees")]
    payouts = [
        entry("psp_payout", p["payout_id"], "CREDIT", p["amount_minor"], p["currency"], "bank") for p in done.made
    ]
    assert psp_differences({"ledger": [*captures, *payouts]}, psp.balance_transactions()) == []

    [missing] = psp_differences({"ledger": [*captures, payouts[0]]}, psp.balance_transactions())
    gbp = done.made[1]
    assert missing["currency"] == "GBP"
    assert missing["problems"] == [
        f"the ledger has no payout of -{gbp['amount_minor']} GBP (PSP {gbp['payout_id']} "
        f"{psp.payout(gbp['payout_id'])['balance_transaction']})"
    ]


def test_a_payout_the_bank_returns_is_failed_and_its_failure_is_compared_too(psp: FakePsp) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)
    params = {"amount": 1000, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"}
    client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    done = pay_out_the_psp(psp, bank_returns_first=True)
    [payout] = done.made
    assert (payout["status"], psp.payout(payout["payout_id"])["status"]) == ("failed", "failed")
    assert psp.balance()["eur"]["available"] == payout["amount_minor"]  # the money is back
    amount, po = payout["amount_minor"], payout["payout_id"]
    books = [
        capture_carrying_fee("p-eur", 1000, card_fee(1000, 290, 30), "EUR"),
        entry("psp_payout", po, "CREDIT", amount, "EUR", "bank"),
        entry("psp_payout_failure", po, "DEBIT", amount, "EUR", "bank"),
    ]
    assert psp_differences({"ledger": books}, psp.balance_transactions()) == []
    [unreturned] = psp_differences({"ledger": books[:2]}, psp.balance_transactions())
    assert unreturned["problems"][0].startswith(f"the ledger has no payout_reversal of {amount} EUR (PSP {po} ")


def test_nothing_available_pays_nothing_out(psp: FakePsp) -> None:
    assert pay_out_the_psp(psp).made == []
