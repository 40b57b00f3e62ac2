"""A payment's journal posts its capture entry once; every entry balances; the fee rule rounds half-even and never
exceeds the amount."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.journal import (
    FEE_REVENUE,
    PSP_CLEARING,
    FeeSchedule,
    Journal,
    JournalEntry,
    JournalEntryPosted,
    Posting,
    PostPayment,
    Side,
    UnbalancedEntry,
    capture_entry,
    journal_decider,
    merchant_payable,
)
from payments_shared.domain_events import DomainEvent
from payments_shared.money import CURRENCY_EXPONENTS, Money

amounts = st.builds(Money, st.integers(1, 10**12), st.sampled_from(sorted(CURRENCY_EXPONENTS)))
schedules = st.builds(
    FeeSchedule,
    st.integers(0, 10_000),
    st.none() | st.dictionaries(st.sampled_from(["EUR", "USD", "JPY", "KWD"]), st.integers(0, 500)),
)


@given(amounts, schedules)
def test_capture_entries_balance_and_split_the_amount_exactly(amount: Money, fees: FeeSchedule) -> None:
    entry = capture_entry("m-1", amount, fees)
    debits = sum(p.amount.minor for p in entry.postings if p.side == Side.DEBIT)
    credits = sum(p.amount.minor for p in entry.postings if p.side == Side.CREDIT)
    assert debits == credits == amount.minor
    by_account = {p.account: p.amount for p in entry.postings}
    assert by_account[PSP_CLEARING] == amount
    fee = fees.fee(amount)
    assert Money.zero(amount.currency) <= fee <= amount
    assert by_account.get(FEE_REVENUE, Money.zero(amount.currency)) == fee
    assert by_account.get(merchant_payable("m-1"), Money.zero(amount.currency)) == amount - fee


@pytest.mark.parametrize(
    ("amount", "bps", "fixed", "fee"),
    [
        ("10.00", 290, 30, "0.59"),  # 2.9 % + 0.30: 0.29 + 0.30
        ("0.50", 100, 0, "0.00"),  # 0.005 → ties to even (0.00)
        ("1.50", 100, 0, "0.02"),  # 0.015 → ties to even (0.02)
        ("0.25", 250, 30, "0.25"),  # the fee never exceeds the amount
        ("1000", 150, 0, "15"),
    ],  # JPY: whole yen
)
def test_fee_examples(amount: str, bps: int, fixed: int, fee: str) -> None:
    currency = "JPY" if "." not in amount else "EUR"
    schedule = FeeSchedule(bps, {currency: fixed})
    assert schedule.fee(Money.parse(amount, currency)) == Money.parse(fee, currency)


def test_an_unbalanced_or_empty_entry_cannot_exist() -> None:
    eur = Money.parse("1.00", "EUR")
    with pytest.raises(UnbalancedEntry):
        JournalEntry((Posting(PSP_CLEARING, Side.DEBIT, eur),))
    with pytest.raises(UnbalancedEntry):
        JournalEntry((Posting("a", Side.DEBIT, eur), Posting("b", Side.CREDIT, Money.parse("1.00", "USD"))))
    with pytest.raises(UnbalancedEntry):
        JournalEntry(())


# -- the journal's decider: given events, when a command, then events

FEES = FeeSchedule(290, {"EUR": 30})
JOURNAL = journal_decider(FEES)
TEN_EUR = Money.parse("10.00", "EUR")


def journal_after(*events: DomainEvent) -> Journal:
    return JOURNAL.fold(JOURNAL.initial, events)


def post(status: str = "SUCCESS", amount: Money = TEN_EUR, event_id: str = "e-1") -> PostPayment:
    return PostPayment("p-1", "m-1", amount, status, event_id)


POSTED = JournalEntryPosted(
    "p-1",
    "e-1",
    [
        {"account": PSP_CLEARING, "side": "DEBIT", "amount_minor": 1000, "currency": "EUR"},
        {"account": "merchant_payable:m-1", "side": "CREDIT", "amount_minor": 941, "currency": "EUR"},
        {"account": FEE_REVENUE, "side": "CREDIT", "amount_minor": 59, "currency": "EUR"},
    ],
)


def test_a_successful_payment_posts_its_capture_entry_net_of_fees() -> None:
    assert JOURNAL.decide(post(), journal_after()) == [POSTED]


def test_a_failed_payment_posts_nothing() -> None:
    assert JOURNAL.decide(post("FAILED"), journal_after()) == []


def test_a_payment_already_posted_posts_nothing_whatever_event_tells_of_it_again() -> None:
    given = journal_after(POSTED)
    assert JOURNAL.decide(post(), given) == []  # the same delivery again
    assert JOURNAL.decide(post(event_id="e-2"), given) == []  # another event of the same payment
    assert JOURNAL.decide(post("FAILED", event_id="e-3"), given) == []


def test_the_journal_holds_the_entry_posted() -> None:
    assert journal_after() == Journal(posted=None)
    assert journal_after(POSTED) == Journal(posted=POSTED)


# -- the journal's invariants over any sequence of commands, several payments' journals at once

commands = st.builds(
    PostPayment,
    payment_order_id=st.sampled_from(["p-1", "p-2", "p-3"]),
    merchant_id=st.sampled_from(["m-1", "m-2"]),
    amount=amounts,
    status=st.sampled_from(["SUCCESS", "FAILED"]),
    source_event_id=st.uuids().map(str),
)


@given(st.lists(commands, max_size=30), schedules)
def test_any_sequence_of_postings_books_each_successful_payment_once_and_every_entry_balances(
    sequence: list[PostPayment], fees: FeeSchedule
) -> None:
    decider = journal_decider(fees)
    journals: dict[str, Journal] = {}
    entries: dict[str, list[DomainEvent]] = {}
    for command in sequence:
        before = journals.get(command.payment_order_id, decider.initial)
        events = decider.decide(command, before)
        after = decider.fold(before, events)
        journals[command.payment_order_id] = after
        entries.setdefault(command.payment_order_id, []).extend(events)
        assert decider.decide(command, after) == []  # posting twice changes nothing
        for event in events:
            assert isinstance(event, JournalEntryPosted)
            assert event.payment_order_id == command.payment_order_id
            assert event.source_event_id == command.source_event_id
            sides: dict[str, int] = {"DEBIT": 0, "CREDIT": 0}
            for posting in event.postings:
                assert posting["currency"] == command.amount.currency and posting["amount_minor"] > 0
                sides[posting["side"]] += posting["amount_minor"]
            assert sides["DEBIT"] == sides["CREDIT"] == command.amount.minor  # the entry balances
    for payment, events in entries.items():
        succeeded = [c for c in sequence if c.payment_order_id == payment and c.status == "SUCCESS"]
        assert len(events) == (1 if succeeded else 0)  # the first SUCCESS is posted; nothing else ever
        if succeeded:
            assert journals[payment].posted == events[0]
            assert (
                isinstance(events[0], JournalEntryPosted) and events[0].source_event_id == succeeded[0].source_event_id
            )
