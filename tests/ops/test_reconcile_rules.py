"""Reconciliation rules, payment by payment: each side against the finalizer's decision of record; merchant by
merchant: the wallet against the ledger's merchant_payable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from ops.reconcile import Facts, Gathered, Owed, check, gather, reconcile

from payments_shared.events import TraceContext
from payments_shared.eventstore.port import StoredEvent
from payments_shared.ids import EventId

EUR_5 = (500, "EUR")


def settled_success() -> Facts:
    return Facts(
        order="SUCCESS",
        amount=EUR_5,
        outcome="SUCCESS",
        outcome_amount=EUR_5,
        entries=[EUR_5],
        credits=[EUR_5],
        charges=[EUR_5],
    )


def pairs(facts: Facts) -> dict[str, str]:
    return {m.pair: m.problem for m in check("p-1", facts)}


def test_agreeing_sides_are_no_mismatch() -> None:
    assert check("p-1", settled_success()) == []
    declined = Facts(order="FAILED", amount=EUR_5, outcome="FAILED", outcome_amount=EUR_5)
    assert check("p-2", declined) == []
    assert check("p-3", Facts(order="REJECTED", amount=EUR_5)) == []  # refused at the door: nothing else happens


@pytest.mark.parametrize(
    ("change", "pair", "problem"),
    [
        ({"charges": []}, "finalizer/psp", "no charged"),
        ({"charges": [EUR_5, EUR_5]}, "finalizer/psp", "charged 2x"),
        ({"charges": [(499, "EUR")]}, "finalizer/psp", "charged 499 EUR, expected 500 EUR"),
        ({"entries": []}, "finalizer/ledger", "no booked"),
        ({"entries": [(500, "USD")]}, "finalizer/ledger", "booked 500 USD, expected 500 EUR"),
        ({"credits": [EUR_5, EUR_5]}, "finalizer/wallet", "credited 2x"),
        ({"credits": []}, "finalizer/wallet", "no credited"),
        ({"credits": [(500, "USD")]}, "finalizer/wallet", "credited in USD, expected EUR"),
        ({"order": "INITIATED"}, "initializer/finalizer", "order says INITIATED, the finalizer SUCCESS"),
        ({"order": "FAILED"}, "initializer/finalizer", "order says FAILED, the finalizer SUCCESS"),
        ({"order": None}, "initializer/finalizer", "the finalizer decided SUCCESS on an order never accepted"),
        ({"amount": (600, "EUR")}, "initializer/finalizer", "amount (600, 'EUR') ordered, (500, 'EUR') decided"),
    ],
)
def test_each_disagreement_is_named_with_its_pair(change: dict[str, object], pair: str, problem: str) -> None:
    facts = settled_success()
    for name, value in change.items():
        setattr(facts, name, value)
    assert pairs(facts) == {pair: problem}


def test_a_failed_payment_must_not_be_charged_booked_or_credited() -> None:
    facts = Facts(
        order="FAILED",
        amount=EUR_5,
        outcome="FAILED",
        outcome_amount=EUR_5,
        entries=[EUR_5],
        credits=[EUR_5],
        charges=[EUR_5],
    )
    assert pairs(facts) == {
        "finalizer/psp": "charged 1x without a SUCCESS",
        "finalizer/ledger": "booked 1x without a SUCCESS",
        "finalizer/wallet": "credited 1x without a SUCCESS",
    }


def test_an_accepted_order_never_decided_and_a_charge_nobody_knows_are_found() -> None:
    assert pairs(Facts(order="INITIATED", amount=EUR_5)) == {
        "initializer/finalizer": "accepted, never decided by the finalizer"
    }
    assert pairs(Facts(charges=[EUR_5])) == {"finalizer/psp": "charged 1x without a SUCCESS"}


def test_young_disagreements_are_in_flight_and_old_ones_are_mismatches() -> None:
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    young = Facts(order="INITIATED", amount=EUR_5, newest=now - timedelta(seconds=10))
    old = Facts(order="INITIATED", amount=EUR_5, newest=now - timedelta(seconds=400))
    result = reconcile(Gathered({"young": young, "old": old, "fine": settled_success()}, {}), settle_s=300, now=now)
    assert (result["payments"], result["in_flight"]) == (3, 1)
    assert [m["payment_order_id"] for m in result["mismatches"]] == ["old"]


def test_a_credit_net_of_fees_is_no_mismatch() -> None:
    facts = settled_success()
    facts.credits = [(470, "EUR")]  # the wallet holds the net: its amount is checked against the ledger's payable
    assert check("p-1", facts) == []


def test_each_merchant_whose_wallet_differs_from_its_ledger_payable_is_named_with_both_figures() -> None:
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    old, young = now - timedelta(seconds=400), now - timedelta(seconds=10)
    owed = {
        ("m-1", "EUR"): Owed(wallet=470, ledger=470, newest=old),
        ("m-2", "EUR"): Owed(wallet=500, ledger=470, newest=old),
        ("m-2", "JPY"): Owed(wallet=0, ledger=100, newest=old),
        ("m-3", "EUR"): Owed(wallet=1, ledger=0, newest=young),  # still in flight
    }
    result = reconcile(Gathered({}, owed), settle_s=300, now=now)
    assert result["in_flight"] == 1 and result["mismatches"] == []
    assert result["balances"] == [
        {"merchant_id": "m-2", "currency": "EUR", "wallet_minor": 500, "ledger_minor": 470},
        {"merchant_id": "m-2", "currency": "JPY", "wallet_minor": 0, "ledger_minor": 100},
    ]


def stored(stream: str, event_type: str, data: Mapping[str, object]) -> StoredEvent:
    at = datetime(2026, 12, 4, 12, tzinfo=UTC)
    return StoredEvent(stream, 1, EventId.new(), event_type, data, at, "c", None, TraceContext())


def test_the_books_of_what_each_merchant_is_owed_are_gathered_from_both_stores() -> None:
    def entry(stream: str, entry_type: str, postings: list[tuple[str, str, int]]) -> StoredEvent:
        data = {
            "payment_order_id": "p-1",
            "source_event_id": "e",
            "entry_type": entry_type,
            "entry_key": "k",
            "postings": [{"account": a, "side": s, "amount_minor": m, "currency": "EUR"} for a, s, m in postings],
        }
        return stored(stream, "JournalEntryPosted", data)

    def moved(event_type: str, minor: int) -> StoredEvent:
        data = {"merchant_id": "m-1", "currency": "EUR", "amount_minor": minor, "payment_order_id": "p-1"}
        return stored("wallet-m-1#00", event_type, data)

    ledger = [
        entry(
            "journal-p-1",
            "capture",
            [("psp_clearing", "DEBIT", 500), ("merchant_payable:m-1", "CREDIT", 470), ("fee_revenue", "CREDIT", 30)],
        ),
        entry(
            "journal-p-1#refund-k", "refund", [("merchant_payable:m-1", "DEBIT", 200), ("psp_clearing", "CREDIT", 200)]
        ),
    ]
    wallet = [moved("WalletCredited", 470), moved("WalletDebited", 200), moved("WalletRefundReversed", 50)]
    gathered = gather({"ledger": {"journal": ledger}, "wallet": {"wallet-m-1#00": wallet}}, {})
    assert (gathered.owed[("m-1", "EUR")].wallet, gathered.owed[("m-1", "EUR")].ledger) == (320, 270)
    # A dispute (amount 100 + fee 1500) taken from both, and won (the amount back) on the wallet only: the
    # ledger's side is then 1500 + 100 short of the wallet's, as the comparison names.
    ledger.append(
        entry(
            "journal-p-1#dispute-dp_1",
            "dispute",
            [("merchant_payable:m-1", "DEBIT", 1600), ("psp_clearing", "CREDIT", 1600)],
        )
    )
    wallet += [moved("WalletDisputeDebited", 1600), moved("WalletDisputeWon", 100)]
    disputed = gather({"ledger": {"journal": ledger}, "wallet": {"wallet-m-1#00": wallet}}, {})
    assert (disputed.owed[("m-1", "EUR")].wallet, disputed.owed[("m-1", "EUR")].ledger) == (-1180, -1330)
    assert gathered.payments["p-1"].entries == [(500, "EUR")]  # the capture alone is the payment's booking
    assert gathered.payments["p-1"].credits == [(470, "EUR")]


def test_a_partial_capture_is_checked_against_what_was_authorized_and_booked_as_captured() -> None:
    captured = (300, "EUR")
    facts = Facts(
        order="SUCCESS",
        amount=EUR_5,
        outcome="SUCCESS",
        outcome_amount=captured,
        ordered_amount=EUR_5,
        charges=[captured],
        entries=[captured],
        credits=[captured],
    )
    assert pairs(facts) == {}
    assert pairs(replace(facts, ordered_amount=(400, "EUR")))["initializer/finalizer"].startswith("amount")
