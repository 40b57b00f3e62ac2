"""Reconciliation rules, payment by payment: each side against the finalizer's decision of record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ops.reconcile import Facts, check, reconcile

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
    result = reconcile({"young": young, "old": old, "fine": settled_success()}, settle_s=300, now=now)
    assert (result["payments"], result["in_flight"]) == (3, 1)
    assert [m["payment_order_id"] for m in result["mismatches"]] == ["old"]
