"""Balances as a merchant reads them (wallet.domain.settlement and the shard's pending buckets): given the
shard's events, at a moment, then its figures; and properties over any sequence of credits, debits and
payouts (pending + available = balance; available never counts an unsettled credit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from payments_shared.domain_events import DomainEvent
from wallet.domain.settlement import Figures, figures, granularity, instant, settles_at
from wallet.domain.wallet import DECIDER, WalletCredited, WalletDebited, WalletShard
from wallet.rows import balance_row, payouts_row

T0 = datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)
TWO_DAYS = 2 * 24 * 3600


def credited(minor: int, at: datetime, delay_s: int = TWO_DAYS, order: str = "o-1") -> WalletCredited:
    return WalletCredited("m-1", "EUR", minor, order, f"e-{order}", instant(at), settles_at(at, delay_s))


def debited(minor: int, refund: str = "rf-1") -> WalletDebited:
    return WalletDebited("m-1", "EUR", minor, "o-1", refund, f"e-{refund}")


def shard(*events: DomainEvent) -> WalletShard:
    return DECIDER.fold(DECIDER.initial, events)


def read(state: WalletShard, at: datetime, paid_out: int = 0) -> Figures:
    rows = [balance_row("m-1", 0, state.balances, 1, "", state.pending)]
    if paid_out:
        rows.append(payouts_row("m-1", "EUR", paid_out, 1, ""))
    return figures(rows, at).get("EUR", Figures())


def test_a_capture_is_pending_until_its_settlement_then_available() -> None:
    state = shard(credited(1000, T0))
    assert read(state, T0) == Figures(balance=1000, pending=1000)
    assert read(state, T0 + timedelta(days=1)).available == 0
    # T+2, rounded up to the hour's bucket (a 48th of two days): never early, at most a granule late
    assert read(state, T0 + timedelta(days=2)).available == 0
    assert read(state, T0 + timedelta(days=2, hours=1)) == Figures(balance=1000, pending=0)


def test_the_bucket_is_capture_time_plus_delay_rounded_up_to_a_48th_of_the_delay() -> None:
    assert granularity(TWO_DAYS) == 3600 and granularity(5) == 1
    assert settles_at(T0, TWO_DAYS) == "2026-12-03T10:00:00Z"
    assert settles_at(T0, 5) == "2026-12-01T09:30:20Z"
    assert settles_at(datetime(2026, 12, 1, 10, tzinfo=UTC), TWO_DAYS) == "2026-12-03T10:00:00Z"  # exact: itself


def test_debits_reduce_available_at_once_and_a_balance_may_go_negative() -> None:
    settled = T0 + timedelta(days=3)
    state = shard(credited(1000, T0), credited(500, settled, order="o-2"), debited(1200))
    # 1000 settled, 500 pending; the refund takes from what is available now: it may go below zero
    assert read(state, settled) == Figures(balance=300, pending=500)
    assert read(state, settled).available == -200  # the merchant owes us 2.00 until the 5.00 settles
    assert read(state, settled + timedelta(days=3)).available == 300


def test_paid_out_is_out_of_the_balance_and_of_available() -> None:
    later = T0 + timedelta(days=3)
    figures_then = read(shard(credited(1000, T0)), later, paid_out=600)
    assert figures_then == Figures(balance=400, pending=0, paid_out=600) and figures_then.available == 400


def test_credits_settled_by_a_later_credit_leave_the_shards_pending_buckets() -> None:
    state = shard(credited(1000, T0), credited(10, T0 + timedelta(days=3), order="o-2"))
    assert state.pending == {"EUR": {settles_at(T0 + timedelta(days=3), TWO_DAYS): 10}}
    assert state.balances == {"EUR": 1010}


def test_a_snapshot_keeps_the_pending_buckets() -> None:
    state = shard(credited(1000, T0), debited(1))
    assert DECIDER.restore is not None and DECIDER.snapshot is not None
    assert DECIDER.restore(DECIDER.snapshot(state)) == state


def test_credits_written_before_settlement_was_tracked_are_available() -> None:
    legacy = WalletCredited("m-1", "EUR", 700, "o-1", "e-1")  # no credited_at, no settles_at
    assert read(shard(legacy), T0) == Figures(balance=700, pending=0)


moves = st.lists(
    st.tuples(
        st.sampled_from(["credit", "debit"]),
        st.integers(min_value=1, max_value=10_000),
        st.integers(min_value=0, max_value=5 * 24 * 3600),  # seconds after T0
    ),
    max_size=30,
)


@given(moves, st.integers(min_value=0, max_value=6 * 24 * 3600), st.sampled_from([5, 3600, TWO_DAYS]))
def test_pending_plus_available_is_the_balance_and_no_unsettled_credit_is_available(
    history: list[tuple[str, int, int]], read_after_s: int, delay_s: int
) -> None:
    events: list[DomainEvent] = []
    credits: list[tuple[datetime, int]] = []
    debits = 0
    for n, (kind, minor, after_s) in enumerate(sorted(history, key=lambda move: move[2])):
        at = T0 + timedelta(seconds=after_s)
        if kind == "credit":
            events.append(credited(minor, at, delay_s, order=f"o-{n}"))
            credits.append((at, minor))
        else:
            events.append(debited(minor, f"rf-{n}"))
            debits += minor
    last = max((after_s for _, _, after_s in history), default=0)
    now = T0 + timedelta(seconds=last + read_after_s)  # read after the last move
    shown = read(shard(*events), now)
    assert shown.pending + shown.available == shown.balance == sum(m for _, m in credits) - debits
    # available counts a credit only once its settlement moment (capture + delay) has passed …
    surely_settled = sum(m for at, m in credits if at + timedelta(seconds=delay_s + granularity(delay_s)) <= now)
    not_yet = sum(m for at, m in credits if at + timedelta(seconds=delay_s) > now)
    assert shown.pending >= not_yet
    # … and at most one granule after it
    assert shown.available >= surely_settled - debits
    assert shown.pending >= 0
