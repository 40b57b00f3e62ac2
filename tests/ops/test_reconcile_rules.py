"""Reconciliation rules, payment by payment: each side against the finalizer's decision of record; merchant by
merchant: the wallet against the ledger's merchant_payable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ops.psp_balance import Movement, movement, movements
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


NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
OLD = NOW - timedelta(seconds=400)


def txn(category: str, amount: int, fee: int = 0, source: str = "ch_1", type_: str | None = None) -> list[Movement]:
    """A Stripe balance transaction (its fields as fixtures3.json names them) seen as psp_clearing movements."""
    found = movements(
        {
            "id": f"txn_{category}_{amount}",
            "amount": amount,
            "fee": fee,
            "net": amount - fee,
            "currency": "eur",
            "reporting_category": category,
            "type": type_ or category,
            "source": source,
            "created": int(OLD.timestamp()),
        }
    )
    assert found
    return found


def journal(entry_type: str, key: str, side: str, minor: int, currency: str = "EUR") -> StoredEvent:
    other = "DEBIT" if side == "CREDIT" else "CREDIT"
    other_account = "psp_fees" if entry_type == "psp_fee" else "merchant_payable:m-1"
    data = {
        "payment_order_id": "p-1",
        "source_event_id": "e",
        "entry_type": entry_type,
        "entry_key": key,
        "postings": [
            {"account": "psp_clearing", "side": side, "amount_minor": minor, "currency": currency},
            {"account": other_account, "side": other, "amount_minor": minor, "currency": currency},
        ],
    }
    stream = f"journal-{key}#psp-fee" if entry_type == "psp_fee" else f"journal-{key}"
    event = stored(stream, "JournalEntryPosted", data)
    return replace(event, occurred_at=OLD)


def capture_carrying_fee(key: str, minor: int, psp_fee: int) -> StoredEvent:
    """Today's capture (since 2026-12-06): the gross at psp_clearing and the fee Stripe kept, in one entry."""
    event = journal("capture", key, "DEBIT", minor)
    postings = [
        *event.data["postings"],
        {"account": "psp_fees", "side": "DEBIT", "amount_minor": psp_fee, "currency": "EUR"},
        {"account": "psp_clearing", "side": "CREDIT", "amount_minor": psp_fee, "currency": "EUR"},
    ]
    return replace(event, data={**event.data, "payment_order_id": key, "postings": postings})


# p-1 booked as today, p-2 as before 2026-12-06 (a capture, and Stripe's fee as an entry of its own).
LEDGER = [
    capture_carrying_fee("p-1", 1000, 59),
    journal("refund", "r-1", "CREDIT", 400),
    journal("refund_reversal", "r-1", "DEBIT", 400),
    journal("dispute", "dp_1", "CREDIT", 2500 + 1500),  # the amount and the dispute fee
    journal("dispute_won", "dp_1", "DEBIT", 2500),
    journal("capture", "p-2", "DEBIT", 2500),
    journal("psp_fee", "p-2", "CREDIT", 103),
]
PSP = [
    *txn("charge", 1000, fee=59),  # the gross and Stripe's fee kept of it: the net is what Stripe owes
    *txn("refund", -400, source="re_1"),
    *txn("refund_failure", 400, source="re_1", type_="payment_failure_refund"),
    *txn("dispute", -2500, fee=1500, source="dp_1", type_="adjustment"),  # its net: with the dispute fee
    *txn("dispute_reversal", 2500, source="dp_1", type_="adjustment"),
    *txn("charge", 2500, fee=103, source="ch_2"),
]
NET = 1000 - 59 - 400 + 400 - 4000 + 2500 + 2500 - 103


def psp_balance(ledger: list[StoredEvent], psp: list[Movement], now: datetime = NOW) -> dict[str, Any]:
    result = reconcile(gather({"ledger": {"journal": ledger}}, {}, psp), settle_s=300, now=now)
    return {"in_flight": result["in_flight"], "psp_balance": result["psp_balance"]}


def test_the_ledgers_psp_clearing_agrees_with_the_psps_balance_transactions() -> None:
    assert psp_balance(LEDGER, PSP) == {"in_flight": 0, "psp_balance": []}


def test_a_refund_the_psp_has_no_transaction_for_is_named_with_both_totals() -> None:
    without_refund = [t for t in PSP if t.kind != "refund"]
    assert psp_balance(LEDGER, without_refund)["psp_balance"] == [
        {
            "currency": "EUR",
            "ledger_minor": NET,
            "psp_minor": NET + 400,
            "problems": ["the PSP has no refund of -400 EUR (ledger r-1)"],
        }
    ]


def test_a_charge_whose_psp_fee_the_ledger_never_booked_is_named() -> None:
    without_fee = [e for e in LEDGER if (e.data["entry_type"], e.data["entry_key"]) != ("psp_fee", "p-2")]
    assert psp_balance(without_fee, PSP)["psp_balance"] == [
        {
            "currency": "EUR",
            "ledger_minor": NET + 103,  # psp_clearing overstates what Stripe owes us by its fee
            "psp_minor": NET,
            "problems": ["the ledger has no psp_fee of -103 EUR (PSP ch_2 txn_charge_2500)"],
        }
    ]


def test_a_capture_booked_without_the_fee_stripe_kept_is_named() -> None:
    without_fee = [journal("capture", "p-1", "DEBIT", 1000), *LEDGER[1:]]
    [difference] = psp_balance(without_fee, PSP)["psp_balance"]
    assert difference["problems"] == ["the ledger has no psp_fee of -59 EUR (PSP ch_1 txn_charge_1000)"]


def test_a_fee_booked_other_than_stripe_kept_is_named_on_both_sides() -> None:
    wrong = [*LEDGER[:-1], journal("psp_fee", "p-2", "CREDIT", 100)]
    [difference] = psp_balance(wrong, PSP)["psp_balance"]
    assert difference["problems"] == [
        "the PSP has no psp_fee of -100 EUR (ledger p-2)",
        "the ledger has no psp_fee of -103 EUR (PSP ch_2 txn_charge_2500)",
    ]
    wrong = [capture_carrying_fee("p-1", 1000, 58), *LEDGER[1:]]  # today's shape: the same names
    [difference] = psp_balance(wrong, PSP)["psp_balance"]
    assert difference["problems"] == [
        "the PSP has no psp_fee of -58 EUR (ledger p-1)",
        "the ledger has no psp_fee of -59 EUR (PSP ch_1 txn_charge_1000)",
    ]


def test_a_fee_booked_in_both_shapes_is_named_once_too_many() -> None:
    # An event the new code posted, redelivered to an old container while a deploy switches code (docs/DESIGN.md).
    doubled = [*LEDGER, journal("psp_fee", "p-1", "CREDIT", 59)]
    [difference] = psp_balance(doubled, PSP)["psp_balance"]
    assert difference["problems"] == ["the PSP has no psp_fee of -59 EUR (ledger p-1)"]


def test_a_capture_carrying_the_fee_is_booked_once_for_its_gross_as_an_old_capture_is() -> None:
    old = replace(LEDGER[-2], data={**LEDGER[-2].data, "payment_order_id": "p-2"})
    payments = gather({"ledger": {"journal": [LEDGER[0], old, LEDGER[-1]]}}, {}).payments
    assert (payments["p-1"].entries, payments["p-2"].entries) == ([(1000, "EUR")], [(2500, "EUR")])


def test_a_charges_movements_are_its_gross_and_the_fee_stripe_kept() -> None:
    charge, fee = txn("charge", 1000, fee=59)
    assert (charge.kind, charge.amount_minor, fee.kind, fee.amount_minor) == ("charge", 1000, "psp_fee", -59)
    assert charge.amount_minor + fee.amount_minor == 941  # Stripe's `net`
    assert [m.kind for m in txn("charge", 1000)] == ["charge"]  # no fee kept: nothing more
    assert [m.amount_minor for m in txn("dispute", -2500, fee=1500, type_="adjustment")] == [-4000]  # its net


def test_a_charge_the_ledger_never_booked_is_named() -> None:
    extra = txn("charge", 700, fee=50, source="ch_9")
    [difference] = psp_balance(LEDGER, [*PSP, *extra])["psp_balance"]
    assert (difference["ledger_minor"] + 700 - 50, difference["psp_minor"]) == (difference["psp_minor"],) * 2
    assert difference["problems"] == [
        "the ledger has no charge of 700 EUR (PSP ch_9 txn_charge_700)",
        "the ledger has no psp_fee of -50 EUR (PSP ch_9 txn_charge_700)",
    ]


def test_equal_totals_with_different_movements_are_still_named() -> None:
    ledger = [journal("capture", "p-1", "DEBIT", 1000), journal("capture", "p-2", "DEBIT", 500)]
    psp = txn("charge", 1500, source="ch_1")
    [difference] = psp_balance(ledger, psp)["psp_balance"]
    assert (difference["ledger_minor"], difference["psp_minor"]) == (1500, 1500)
    assert difference["problems"] == [
        "the PSP has no charge of 1000 EUR (ledger p-1)",
        "the PSP has no charge of 500 EUR (ledger p-2)",
        "the ledger has no charge of 1500 EUR (PSP ch_1 txn_charge_1500)",
    ]


def test_each_currency_is_its_own_pair_and_a_young_difference_is_in_flight() -> None:
    ledger = [*LEDGER, journal("capture", "p-3", "DEBIT", 300, currency="USD")]
    result = psp_balance(ledger, PSP)
    assert [d["currency"] for d in result["psp_balance"]] == ["USD"]
    young = OLD + timedelta(seconds=10)  # the payments' own checks count their in-flight too: one more here
    agreeing = psp_balance([*LEDGER, journal("capture", "p-3", "DEBIT", 300)], PSP, now=young)
    assert psp_balance(ledger, PSP, now=young) == {"in_flight": agreeing["in_flight"] + 1, "psp_balance": []}


def test_categories_psp_clearing_does_not_book_are_left_out_and_an_unread_psp_is_not_compared() -> None:
    assert movement({"id": "txn_t", "reporting_category": "transfer", "type": "transfer", "amount": -900}) is None
    assert movements({"id": "txn_f", "reporting_category": "fee", "type": "stripe_fee", "amount": -200, "fee": 0}) == []
    assert reconcile(gather({"ledger": {"journal": LEDGER}}, {}), settle_s=300, now=NOW)["psp_balance"] == []


def bank_journal(entry_type: str, payout_id: str, side: str, minor: int) -> StoredEvent:
    """The ledger's entry of a Stripe payout to our bank (psp_payout) or of its failure (psp_payout_failure)."""
    other = "DEBIT" if side == "CREDIT" else "CREDIT"
    data = {
        "payment_order_id": "",
        "source_event_id": "e",
        "entry_type": entry_type,
        "entry_key": payout_id,
        "postings": [
            {"account": "bank", "side": other, "amount_minor": minor, "currency": "EUR"},
            {"account": "psp_clearing", "side": side, "amount_minor": minor, "currency": "EUR"},
        ],
    }
    return replace(stored(f"journal-{entry_type}-{payout_id}", "JournalEntryPosted", data), occurred_at=OLD)


PAID_OUT = [
    bank_journal("psp_payout", "po_1", "CREDIT", 900),
    bank_journal("psp_payout_failure", "po_1", "DEBIT", 900),
    bank_journal("psp_payout", "po_2", "CREDIT", 300),
]
PSP_PAID_OUT = [
    *txn("payout", -900, source="po_1"),  # Stripe's payout balance transaction: type and category payout
    *txn("payout_reversal", 900, source="po_1", type_="payout_failure"),  # the failed payout's money back
    *txn("payout", -300, source="po_2"),
]


def test_stripes_payouts_to_our_bank_and_their_failures_agree_with_the_ledgers_bank_entries() -> None:
    assert psp_balance([*LEDGER, *PAID_OUT], [*PSP, *PSP_PAID_OUT]) == {"in_flight": 0, "psp_balance": []}


def test_a_payout_or_its_failure_one_side_lacks_is_named() -> None:
    [unbooked] = psp_balance([*LEDGER, *PAID_OUT[:2]], [*PSP, *PSP_PAID_OUT])["psp_balance"]
    assert unbooked["psp_minor"] == unbooked["ledger_minor"] - 300
    assert unbooked["problems"] == ["the ledger has no payout of -300 EUR (PSP po_2 txn_payout_-300)"]
    [unreturned] = psp_balance([*LEDGER, *PAID_OUT], [*PSP, PSP_PAID_OUT[0], PSP_PAID_OUT[2]])["psp_balance"]
    assert unreturned["problems"] == ["the PSP has no payout_reversal of 900 EUR (ledger po_1)"]
