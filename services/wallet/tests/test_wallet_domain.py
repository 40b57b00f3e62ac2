"""The Wallet aggregate: snapshot + tail equals full replay, for any history and any snapshot point."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from payments_shared.money import Money
from wallet.domain.wallet import Wallet

credits = st.lists(st.tuples(st.sampled_from(["EUR", "JPY", "KWD"]), st.integers(1, 10**9)), max_size=60)


def history(amounts: list[tuple[str, int]]) -> list[tuple[int, str, dict[str, object]]]:
    wallet, events = Wallet("m-1"), list[tuple[int, str, dict[str, object]]]()
    for currency, minor in amounts:
        credited = wallet.credit(Money(minor, currency), "order", f"evt-{len(events)}")
        [event] = credited.pending
        wallet = wallet.apply(event, wallet.version + 1)
        assert credited == wallet  # the command's state is its event applied
        events.append((wallet.version, event.event_type, dict(event.data)))
    return events


@given(credits, st.data())
def test_snapshot_plus_tail_equals_full_replay(amounts: list[tuple[str, int]], data: st.DataObject) -> None:
    events = history(amounts)
    full = Wallet.rebuild("m-1", None, events)
    cut = data.draw(st.integers(0, len(events)))
    at_cut = Wallet.rebuild("m-1", None, events[:cut])
    snapshot = (at_cut.version, at_cut.snapshot_state()) if cut else None
    assert Wallet.rebuild("m-1", snapshot, events[cut:]) == full
    for currency in {c for c, _ in amounts}:
        assert full.balance(currency).minor == sum(m for c, m in amounts if c == currency)
    assert full.version == len(amounts)
