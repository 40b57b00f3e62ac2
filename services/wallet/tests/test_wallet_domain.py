"""The wallet shard decider: given its events, when a command, then its events (or its refusal); snapshots."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments_shared.domain_events import DomainEvent
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from wallet.domain.errors import CreditNotPositive
from wallet.domain.streams import credited_marker, dedupe_marker, shard_name, shard_of, stream_id
from wallet.domain.wallet import (
    DECIDER,
    CreditWallet,
    Dispute,
    Refund,
    WalletCredited,
    WalletDebited,
    WalletDisputeDebited,
    WalletDisputeWon,
    WalletRefundReversed,
    WalletShard,
    wallet_decider,
)


def given_events(*events: DomainEvent) -> WalletShard:
    return DECIDER.fold(DECIDER.initial, events)


def when(state: WalletShard, command: CreditWallet | Refund | Dispute) -> Sequence[DomainEvent]:
    return DECIDER.decide(command, state)


def credited(minor: int, currency: str = "EUR", order: str = "order-1", event: str = "evt-1") -> WalletCredited:
    return WalletCredited("m-1", currency, minor, order, event)


def credit(minor: int, currency: str = "EUR", order: str = "order-1", event: str = "evt-1") -> CreditWallet:
    return CreditWallet("m-1", Money(minor, currency), order, event)


def test_a_credit_on_a_new_shard_is_credited() -> None:
    assert when(given_events(), credit(1234)) == [credited(1234)]


def test_a_credit_on_a_credited_shard_is_credited_again_whatever_its_balance() -> None:
    state = given_events(credited(500), credited(100, "JPY", "order-2", "evt-2"))
    assert when(state, credit(66, order="order-3", event="evt-3")) == [credited(66, order="order-3", event="evt-3")]


@pytest.mark.parametrize("minor", [0, -1])
def test_a_credit_of_zero_or_less_is_refused(minor: int) -> None:
    with pytest.raises(CreditNotPositive, match="must be positive"):
        when(given_events(credited(500)), CreditWallet("m-1", Money(minor, "EUR"), "order-1", "evt-1"))


def test_credits_add_up_per_currency_on_the_shard() -> None:
    state = given_events(credited(500), credited(700, "EUR", "o-2", "e-2"), credited(3, "KWD", "o-3", "e-3"))
    assert state == WalletShard("m-1", {"EUR": 1200, "KWD": 3})
    assert state.balance("EUR") == Money(1200, "EUR") and state.balance("JPY") == Money(0, "JPY")


def test_a_capture_is_credited_net_of_the_fee() -> None:
    decider = wallet_decider(FeeSchedule(290, {"EUR": 30}))
    assert decider.decide(credit(1000), given_events()) == [credited(941)]
    assert decider.decide(credit(20), given_events()) == [credited(0)]  # the fee takes it all


def test_a_refund_debits_and_its_reversal_credits_back_and_a_shard_may_go_negative() -> None:
    refund = Refund("m-1", Money(700, "EUR"), "order-1", "rf-1", False, "evt-r")
    debited = WalletDebited("m-1", "EUR", 700, "order-1", "rf-1", "evt-r")
    assert when(given_events(credited(500)), refund) == [debited]
    assert given_events(credited(500), debited) == WalletShard("m-1", {"EUR": -200})
    reversal = Refund("m-1", Money(700, "EUR"), "order-1", "rf-1", True, "evt-v")
    back = WalletRefundReversed("m-1", "EUR", 700, "order-1", "rf-1", "evt-v")
    assert when(given_events(), reversal) == [back]
    assert given_events(credited(500), debited, back) == WalletShard("m-1", {"EUR": 500})


def test_a_dispute_debits_its_amount_and_fee_and_a_win_credits_back_only_the_amount() -> None:
    opened = Dispute("m-1", Money(400, "EUR"), Money(1500, "EUR"), "order-1", "dp_1", False, "evt-d")
    debited = WalletDisputeDebited("m-1", "EUR", 1900, 1500, "order-1", "dp_1", "evt-d")
    assert when(given_events(credited(1000)), opened) == [debited]
    assert given_events(credited(1000), debited) == WalletShard("m-1", {"EUR": -900})
    won = Dispute("m-1", Money(400, "EUR"), Money(1500, "EUR"), "order-1", "dp_1", True, "evt-w")
    back = WalletDisputeWon("m-1", "EUR", 400, "order-1", "dp_1", "evt-w")
    assert when(given_events(), won) == [back]
    assert given_events(credited(1000), debited, back) == WalletShard("m-1", {"EUR": -500})


def test_a_stored_snapshot_loads_and_a_new_one_keeps_its_layout() -> None:
    stored = {"merchant_id": "m-1", "balances": {"EUR": 1200, "KWD": 3}}  # as existing snapshots hold it
    assert DECIDER.snapshot is not None and DECIDER.restore is not None
    state = DECIDER.restore(stored)
    assert state == WalletShard("m-1", {"EUR": 1200, "KWD": 3})
    assert DECIDER.snapshot(state) == stored


def test_the_wallets_names() -> None:
    assert stream_id("m-1", 3) == "wallet-m-1#03" and shard_name(12) == "12"
    assert shard_of("wallet-m-1#03") == 3 and shard_of("payment-1") is None and shard_of("wallet-m-1") is None
    assert dedupe_marker("e-1") == "dedupe#e-1" and credited_marker("o-1") == "credited#o-1"


credits = st.lists(st.tuples(st.sampled_from(["EUR", "JPY", "KWD"]), st.integers(1, 10**9)), max_size=60)


@given(credits, st.data())
def test_snapshot_plus_tail_equals_full_replay(amounts: list[tuple[str, int]], data: st.DataObject) -> None:
    assert DECIDER.snapshot is not None and DECIDER.restore is not None
    state, events = DECIDER.initial, list[DomainEvent]()
    for n, (currency, minor) in enumerate(amounts):
        decided = DECIDER.decide(CreditWallet("m-1", Money(minor, currency), f"order-{n}", f"evt-{n}"), state)
        state, events = DECIDER.fold(state, decided), [*events, *decided]
    full = DECIDER.fold(DECIDER.initial, events)
    assert full == state
    cut = data.draw(st.integers(1, len(events))) if events else 0
    at_cut = DECIDER.fold(DECIDER.initial, events[:cut])
    restored = DECIDER.restore(DECIDER.snapshot(at_cut)) if cut else DECIDER.initial
    assert DECIDER.fold(restored, events[cut:]) == full
    for currency in {c for c, _ in amounts}:
        assert full.balance(currency).minor == sum(m for c, m in amounts if c == currency)
