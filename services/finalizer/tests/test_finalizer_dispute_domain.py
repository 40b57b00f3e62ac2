"""The dispute decider, given/when/then, and its rules as properties over any sequence of what Stripe says of a
dispute as its webhooks bring it (late, twice, out of order)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finalizer.domain.dispute import (
    DECIDER,
    EVENTS,
    Dispute,
    DisputeLost,
    DisputeOpened,
    DisputeWon,
    RecordDispute,
)
from finalizer.domain.psp_views import STRIPE_DISPUTE_STATUSES as STRIPE_STATUSES
from finalizer.domain.psp_views import DisputeStatus, DisputeView
from finalizer.domain.streams import PUBLISHED_TYPES, dispute_stream
from payments_shared.contracts import DisputeStatusUpdatedData
from payments_shared.domain_events import DomainEvent

ORDER = "0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f"


def view(status: DisputeStatus, amount: int = 2500, fee: int = 1500) -> DisputeView:
    return DisputeView("dp_1", "pi_1", amount, "EUR", fee, status, "fraudulent", ORDER)


def record(status: DisputeStatus, amount: int = 2500) -> RecordDispute:
    return RecordDispute(view(status, amount), ORDER, "merchant-1")


OPENED = DisputeOpened(
    dispute_id="dp_1",
    payment_order_id=ORDER,
    merchant_id="merchant-1",
    currency="EUR",
    amount_minor=2500,
    fee_minor=1500,
    status="OPENED",
    reason="fraudulent",
)


def given_events(*events: DomainEvent) -> Dispute:
    return DECIDER.fold(DECIDER.initial, events)


def when(state: Dispute, command: RecordDispute) -> Sequence[DomainEvent]:
    return DECIDER.decide(command, state)


def test_a_new_dispute_is_opened_with_its_amount_and_fee() -> None:
    assert when(given_events(), record(DisputeStatus.OPENED)) == [OPENED]
    assert given_events(OPENED).status == DisputeStatus.OPENED


def test_an_open_dispute_seen_again_changes_nothing() -> None:
    assert when(given_events(OPENED), record(DisputeStatus.OPENED)) == []


def test_a_win_closes_it_once_with_the_amounts_recorded_when_opened() -> None:
    [won] = when(given_events(OPENED), record(DisputeStatus.WON, amount=9999))
    assert won == DisputeWon(**{**OPENED.data, "status": "WON"})
    assert when(given_events(OPENED, won), record(DisputeStatus.WON)) == []
    assert when(given_events(OPENED, won), record(DisputeStatus.LOST)) == []  # closed is final


def test_a_loss_closes_it_once() -> None:
    [lost] = when(given_events(OPENED), record(DisputeStatus.LOST))
    assert isinstance(lost, DisputeLost) and lost.status == "LOST"
    assert given_events(OPENED, lost).status == DisputeStatus.LOST
    assert when(given_events(OPENED, lost), record(DisputeStatus.OPENED)) == []  # a late created webhook


def test_a_close_seen_before_the_open_records_both() -> None:
    assert when(given_events(), record(DisputeStatus.WON)) == [OPENED, DisputeWon(**{**OPENED.data, "status": "WON"})]


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError):
        when(given_events(), record(DisputeStatus.OPENED, amount=0))
    other = RecordDispute(DisputeView("dp_2", "pi_1", 1, "EUR", 0, DisputeStatus.WON, None), ORDER, "merchant-1")
    with pytest.raises(ValueError, match="dp_2"):
        when(given_events(OPENED), other)


def test_stripes_statuses_map_to_open_won_or_lost() -> None:
    assert STRIPE_STATUSES["needs_response"] == STRIPE_STATUSES["under_review"] == DisputeStatus.OPENED
    assert (STRIPE_STATUSES["won"], STRIPE_STATUSES["lost"]) == (DisputeStatus.WON, DisputeStatus.LOST)


def test_every_event_keeps_its_name_and_is_the_published_contracts_data() -> None:
    won, lost = DisputeWon(**{**OPENED.data, "status": "WON"}), DisputeLost(**{**OPENED.data, "status": "LOST"})
    for event in (OPENED, won, lost):
        assert EVENTS.decode(event.event_type, event.data) == event
        assert DisputeStatusUpdatedData.model_validate(event.data).model_dump() == event.data
        assert PUBLISHED_TYPES[event.event_type] == "DisputeStatusUpdated"
    assert dispute_stream("dp_1") == "dispute-dp_1"


# Properties: whatever Stripe says, in whatever order and however often.
statuses = st.sampled_from(list(DisputeStatus))


def run(sequence: list[DisputeStatus]) -> list[DomainEvent]:
    state, recorded = DECIDER.initial, list[DomainEvent]()
    for status in sequence:
        events = DECIDER.decide(record(status), state)
        recorded.extend(events)
        state = DECIDER.fold(state, events)
    return recorded


@given(st.lists(statuses, max_size=12))
def test_opened_once_first_then_at_most_one_close_the_first_one_seen(sequence: list[DisputeStatus]) -> None:
    recorded = [e.data["status"] for e in run(sequence)]
    if not sequence:
        assert recorded == []
        return
    assert recorded[0] == "OPENED" and recorded.count("OPENED") == 1
    first_close = next((s.value for s in sequence if s != DisputeStatus.OPENED), None)
    assert recorded[1:] == ([first_close] if first_close else [])


@given(st.lists(statuses, min_size=1, max_size=12))
def test_what_a_win_gives_back_is_what_was_withdrawn_less_the_fee(sequence: list[DisputeStatus]) -> None:
    # The books' view: OPENED takes amount + fee, WON gives back the amount.
    moved = 0
    for event in run(sequence):
        if event.data["status"] == "OPENED":
            moved -= event.data["amount_minor"] + event.data["fee_minor"]
        elif event.data["status"] == "WON":
            moved += event.data["amount_minor"]
    assert moved in (-4000, -1500)
