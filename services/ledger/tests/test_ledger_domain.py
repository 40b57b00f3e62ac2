"""Each business event's journal posts its entry once (a capture, carrying the PSP's fee, a refund, a refund's
reversal); a capture with the PSP's fee books what an older payment's capture and psp_fee entries did; every entry
balances; the fee rule rounds half-even and never exceeds the amount."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.journal import (
    FEE_REVENUE,
    PSP_CLEARING,
    PSP_FEES,
    AccountBalance,
    EntryType,
    Journal,
    JournalEntry,
    JournalEntryPosted,
    PostEntry,
    Posting,
    Side,
    TrialBalance,
    UnbalancedEntry,
    capture_entry,
    journal_decider,
    merchant_payable,
    psp_fee_entry,
)
from payments_shared.domain_events import DomainEvent
from payments_shared.fees import FeeSchedule
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


def post(amount: Money = TEN_EUR, event_id: str = "e-1", entry_type: EntryType = EntryType.CAPTURE) -> PostEntry:
    key = "p-1" if entry_type == EntryType.CAPTURE else "rf-1"
    return PostEntry(entry_type, key, "p-1", "m-1", amount, event_id)


POSTED = JournalEntryPosted(
    "p-1",
    "e-1",
    [
        {"account": PSP_CLEARING, "side": "DEBIT", "amount_minor": 1000, "currency": "EUR"},
        {"account": "merchant_payable:m-1", "side": "CREDIT", "amount_minor": 941, "currency": "EUR"},
        {"account": FEE_REVENUE, "side": "CREDIT", "amount_minor": 59, "currency": "EUR"},
    ],
    "capture",
    "p-1",
)


def test_a_successful_payment_posts_its_capture_entry_net_of_fees() -> None:
    assert JOURNAL.decide(post(), journal_after()) == [POSTED]


def test_a_capture_carries_the_psps_fee_an_expense_taken_from_what_the_psp_owes_us_once() -> None:
    # Stripe's balance transaction of a charge: `amount` gross, `fee` kept, `net` "`amount` - `fee`"; psp_clearing is
    # moved by both, so it nets to `net` (1000 - 59 = 941 owed by the PSP) and reconcile matches each.
    capture = PostEntry(EntryType.CAPTURE, "p-1", "p-1", "m-1", TEN_EUR, "e-1", psp_fee=Money(59, "EUR"))
    [posted] = JOURNAL.decide(capture, journal_after())
    assert isinstance(posted, JournalEntryPosted) and (posted.entry_type, posted.entry_key) == ("capture", "p-1")
    assert [(p["account"], p["side"], p["amount_minor"]) for p in posted.postings] == [
        (PSP_CLEARING, "DEBIT", 1000),
        ("merchant_payable:m-1", "CREDIT", 941),  # the merchant pays our fee only: the PSP's is the platform's
        (FEE_REVENUE, "CREDIT", 59),
        (PSP_FEES, "DEBIT", 59),
        (PSP_CLEARING, "CREDIT", 59),
    ]
    assert JOURNAL.decide(capture, journal_after(posted)) == []  # posted once, whichever event tells of it again


@pytest.mark.parametrize("psp_fee", [None, Money(0, "EUR")])
def test_a_capture_without_the_psps_fee_is_the_capture_it_always_was(psp_fee: Money | None) -> None:
    capture = PostEntry(EntryType.CAPTURE, "p-1", "p-1", "m-1", TEN_EUR, "e-1", psp_fee=psp_fee)
    assert JOURNAL.decide(capture, journal_after()) == [POSTED]


def test_an_older_payments_psp_fee_entry_still_reads_as_it_was_booked() -> None:
    fee = PostEntry(EntryType.PSP_FEE, "p-1", "p-1", "m-1", Money(59, "EUR"), "e-1")
    [posted] = JOURNAL.decide(fee, journal_after())
    assert isinstance(posted, JournalEntryPosted) and (posted.entry_type, posted.entry_key) == ("psp_fee", "p-1")
    assert [(p["account"], p["side"], p["amount_minor"]) for p in posted.postings] == [
        (PSP_FEES, "DEBIT", 59),
        (PSP_CLEARING, "CREDIT", 59),
    ]
    assert JOURNAL.decide(fee, journal_after(posted)) == []


def trial_balance(*entries: JournalEntry) -> TrialBalance:
    rows: dict[tuple[str, str], list[int]] = {}
    for entry in entries:
        for p in entry.postings:
            row = rows.setdefault((p.account, p.amount.currency), [0, 0])
            row[0 if p.side == Side.DEBIT else 1] += p.amount.minor
    return TrialBalance.of(AccountBalance(a, c, d, k) for (a, c), (d, k) in rows.items())


@given(amounts, schedules, st.integers(0, 10**12))
def test_one_capture_carrying_the_psps_fee_books_what_the_capture_and_psp_fee_entries_booked(
    amount: Money, fees: FeeSchedule, psp_fee_minor: int
) -> None:
    """The upgrade changes no figure: every account's debits and credits (not only its balance) are those of the
    old two entries, for any amount, fee rule and PSP fee (a fee above the amount included: Stripe's is its own)."""
    psp_fee = Money(psp_fee_minor, amount.currency)
    old = [capture_entry("m-1", amount, fees)] + ([psp_fee_entry(psp_fee)] if psp_fee_minor else [])
    new = capture_entry("m-1", amount, fees, psp_fee)
    assert trial_balance(new) == trial_balance(*old)
    assert trial_balance(new).is_balanced()


def test_a_refund_debits_the_merchant_and_keeps_our_fee_and_its_reversal_gives_it_back() -> None:
    [refund] = JOURNAL.decide(post(Money(400, "EUR"), "e-r", EntryType.REFUND), journal_after())
    [reversal] = JOURNAL.decide(post(Money(400, "EUR"), "e-v", EntryType.REFUND_REVERSAL), journal_after())
    assert isinstance(refund, JournalEntryPosted) and isinstance(reversal, JournalEntryPosted)
    assert (refund.entry_type, refund.entry_key, reversal.entry_type) == ("refund", "rf-1", "refund_reversal")
    payable = merchant_payable("m-1")
    assert [(p["account"], p["side"], p["amount_minor"]) for p in refund.postings] == [
        (payable, "DEBIT", 400),
        (PSP_CLEARING, "CREDIT", 400),
    ]
    assert [(p["account"], p["side"], p["amount_minor"]) for p in reversal.postings] == [
        (PSP_CLEARING, "DEBIT", 400),
        (payable, "CREDIT", 400),
    ]


def test_a_dispute_debits_the_merchant_the_amount_and_fee_and_a_win_gives_back_only_the_amount() -> None:
    opened = PostEntry(EntryType.DISPUTE, "dp_1", "p-1", "m-1", Money(400, "EUR"), "e-d", Money(1500, "EUR"))
    won = PostEntry(EntryType.DISPUTE_WON, "dp_1", "p-1", "m-1", Money(400, "EUR"), "e-w", Money(1500, "EUR"))
    [dispute] = JOURNAL.decide(opened, journal_after())
    [given_back] = JOURNAL.decide(won, journal_after())
    assert isinstance(dispute, JournalEntryPosted) and isinstance(given_back, JournalEntryPosted)
    assert (dispute.entry_type, dispute.entry_key, given_back.entry_type) == ("dispute", "dp_1", "dispute_won")
    payable = merchant_payable("m-1")
    assert [(p["account"], p["side"], p["amount_minor"]) for p in dispute.postings] == [
        (payable, "DEBIT", 1900),
        (PSP_CLEARING, "CREDIT", 1900),
    ]
    assert [(p["account"], p["side"], p["amount_minor"]) for p in given_back.postings] == [
        (PSP_CLEARING, "DEBIT", 400),
        (payable, "CREDIT", 400),
    ]
    assert JOURNAL.decide(opened, journal_after(dispute)) == []  # a redelivery books nothing


def test_an_entry_already_posted_posts_nothing_whatever_event_tells_of_it_again() -> None:
    given = journal_after(POSTED)
    assert JOURNAL.decide(post(), given) == []  # the same delivery again
    assert JOURNAL.decide(post(event_id="e-2"), given) == []  # another event of the same business event


def test_the_journal_holds_the_entry_posted() -> None:
    assert journal_after() == Journal(posted=None)
    assert journal_after(POSTED) == Journal(posted=POSTED)


# -- the journal's invariants over any sequence of commands, several payments' journals at once

commands = st.builds(
    PostEntry,
    entry_type=st.sampled_from(list(EntryType)),
    entry_key=st.sampled_from(["k-1", "k-2", "k-3"]),
    payment_order_id=st.just("p-1"),
    merchant_id=st.sampled_from(["m-1", "m-2"]),
    amount=amounts,
    source_event_id=st.uuids().map(str),
).flatmap(  # a capture's PSP fee (ignored by other entries), in the amount's currency
    lambda c: st.builds(
        dataclasses.replace,
        st.just(c),
        psp_fee=st.none() | st.integers(0, 10**12).map(lambda minor: Money(minor, c.amount.currency)),
    )
)


@given(st.lists(commands, max_size=30), schedules)
def test_any_sequence_of_postings_books_each_business_event_once_and_every_entry_balances(
    sequence: list[PostEntry], fees: FeeSchedule
) -> None:
    decider = journal_decider(fees)
    journals: dict[tuple[EntryType, str], Journal] = {}  # one journal per business event
    entries: dict[tuple[EntryType, str], list[DomainEvent]] = {}
    for command in sequence:
        business_event = (command.entry_type, command.entry_key)
        before = journals.get(business_event, decider.initial)
        events = decider.decide(command, before)
        after = decider.fold(before, events)
        journals[business_event] = after
        entries.setdefault(business_event, []).extend(events)
        assert decider.decide(command, after) == []  # posting twice changes nothing
        for event in events:
            assert isinstance(event, JournalEntryPosted)
            assert event.payment_order_id == command.payment_order_id
            assert event.source_event_id == command.source_event_id
            assert (event.entry_type, event.entry_key) == (command.entry_type, command.entry_key)
            sides: dict[str, int] = {"DEBIT": 0, "CREDIT": 0}
            for posting in event.postings:
                assert posting["currency"] == command.amount.currency and posting["amount_minor"] > 0
                sides[posting["side"]] += posting["amount_minor"]
            fee = command.fee.minor if command.fee and command.entry_type == EntryType.DISPUTE else 0
            psp_fee = command.psp_fee.minor if command.psp_fee and command.entry_type == EntryType.CAPTURE else 0
            assert sides["DEBIT"] == sides["CREDIT"] == command.amount.minor + fee + psp_fee  # the entry balances
    for business_event, events in entries.items():
        asked = [c for c in sequence if (c.entry_type, c.entry_key) == business_event]
        assert len(events) == 1  # the first command is posted; nothing else ever
        assert journals[business_event].posted == events[0]
        assert isinstance(events[0], JournalEntryPosted) and events[0].source_event_id == asked[0].source_event_id
