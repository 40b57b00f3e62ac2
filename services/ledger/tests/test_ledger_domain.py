"""Every journal entry balances; the fee rule rounds half-even and never exceeds the amount."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.journal import (
    FEE_REVENUE,
    PSP_CLEARING,
    FeeSchedule,
    JournalEntry,
    Posting,
    Side,
    UnbalancedEntry,
    capture_entry,
    merchant_payable,
)
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
