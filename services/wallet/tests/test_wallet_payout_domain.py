"""The payouts decider (wallet.domain.payout): given the merchant's payouts in a currency, when a payout is
asked with what the shards hold available, then the payout (or its refusal naming what is available)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments_shared.money import Money
from wallet.domain.errors import PayoutExceedsAvailable
from wallet.domain.payout import DECIDER, PayOut, PayoutPaid, Payouts, stream_id


def paid(minor: int, payout_id: str = "po_1") -> PayoutPaid:
    return PayoutPaid(payout_id, "m-1", "EUR", minor, "2026-12-01T00:00:00Z")


def ask(available: int, amount: int | None = None, payout_id: str = "po_2") -> PayOut:
    money = None if amount is None else Money(amount, "EUR")
    return PayOut(payout_id, "m-1", "EUR", money, available, "2026-12-01T00:00:00Z")


def given_payouts(*events: PayoutPaid) -> Payouts:
    return DECIDER.fold(DECIDER.initial, events)


def test_without_an_amount_everything_available_is_paid_out() -> None:
    assert DECIDER.decide(ask(1000), given_payouts()) == [paid(1000, "po_2")]


def test_earlier_payouts_are_no_longer_available() -> None:
    assert DECIDER.decide(ask(1000), given_payouts(paid(600))) == [paid(400, "po_2")]
    assert DECIDER.decide(ask(1000, 400), given_payouts(paid(600))) == [paid(400, "po_2")]


def test_more_than_available_is_refused_naming_what_is_available() -> None:
    with pytest.raises(PayoutExceedsAvailable, match="at most 4.00 EUR") as refused:
        DECIDER.decide(ask(1000, 401), given_payouts(paid(600)))
    assert refused.value.available == Money(400, "EUR")


@pytest.mark.parametrize("available", [0, -500])
def test_nothing_available_nothing_paid_out(available: int) -> None:
    with pytest.raises(PayoutExceedsAvailable, match="at most 0.00 EUR"):
        DECIDER.decide(ask(available), given_payouts())


def test_the_same_payout_asked_again_moves_nothing() -> None:
    assert DECIDER.decide(ask(5000, 10, payout_id="po_1"), given_payouts(paid(600))) == []


def test_the_stream_and_the_snapshot() -> None:
    assert stream_id("m-1", "EUR") == "payouts-m-1-EUR"
    state = given_payouts(paid(600), paid(5, "po_9"))
    assert DECIDER.snapshot is not None and DECIDER.restore is not None
    assert DECIDER.restore(DECIDER.snapshot(state)) == state and state.paid_out == 605


@given(st.integers(min_value=-1000, max_value=10_000), st.lists(st.integers(min_value=-100, max_value=5000)))
def test_payouts_never_exceed_what_was_available(available: int, asked: list[int]) -> None:
    state = given_payouts()
    for n, minor in enumerate(asked):
        before = available - state.paid_out
        try:
            events = DECIDER.decide(ask(available, minor if minor > 0 else None, f"po_{n}"), state)
        except PayoutExceedsAvailable as refused:
            assert refused.available.minor == max(before, 0)
            continue
        [event] = events
        assert isinstance(event, PayoutPaid) and 0 < event.amount_minor <= before
        state = DECIDER.fold(state, events)
    assert state.paid_out <= max(available, 0)
