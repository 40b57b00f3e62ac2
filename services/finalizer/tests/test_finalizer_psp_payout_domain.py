"""The decider of a payout of the PSP's balance to our bank, given/when/then, and its rules as properties over any
sequence of what Stripe says of the payout as its webhooks bring it (late, twice, out of order)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finalizer.domain.psp_payout import (
    DECIDER,
    EVENTS,
    PspPayout,
    PspPayoutFailed,
    PspPayoutPaid,
    RecordPspPayout,
)
from finalizer.domain.psp_views import STRIPE_PAYOUT_STATUSES as STRIPE_STATUSES
from finalizer.domain.psp_views import PspPayoutStatus, PspPayoutView
from finalizer.domain.streams import PUBLISHED_TYPES, psp_payout_stream
from payments_shared.contracts import PspPayoutUpdatedData
from payments_shared.domain_events import DomainEvent

PAID = PspPayoutPaid(payout_id="po_1", currency="EUR", amount_minor=9000, status="PAID", failure_code=None)


def record(status: PspPayoutStatus, amount: int = 9000, payout_id: str = "po_1") -> RecordPspPayout:
    failure = "account_closed" if status == PspPayoutStatus.FAILED else None
    return RecordPspPayout(PspPayoutView(payout_id, amount, "EUR", status, failure))


def given_events(*events: DomainEvent) -> PspPayout:
    return DECIDER.fold(DECIDER.initial, events)


def when(state: PspPayout, command: RecordPspPayout) -> Sequence[DomainEvent]:
    return DECIDER.decide(command, state)


def test_a_paid_payout_is_recorded_paid_once() -> None:
    assert when(given_events(), record(PspPayoutStatus.PAID)) == [PAID]
    assert when(given_events(PAID), record(PspPayoutStatus.PAID)) == []


def test_a_paid_payout_that_fails_later_is_recorded_failed_once_for_what_was_paid() -> None:
    failed = when(given_events(PAID), record(PspPayoutStatus.FAILED, amount=1))  # the amount recorded when paid
    assert failed == [PspPayoutFailed("po_1", "EUR", 9000, "FAILED", "account_closed")]
    assert when(given_events(PAID, *failed), record(PspPayoutStatus.FAILED)) == []
    assert when(given_events(PAID, *failed), record(PspPayoutStatus.PAID)) == []  # a stale paid changes nothing


def test_a_payout_first_seen_failed_records_both_its_money_out_and_back() -> None:
    assert when(given_events(), record(PspPayoutStatus.FAILED)) == [
        PAID,
        PspPayoutFailed("po_1", "EUR", 9000, "FAILED", "account_closed"),
    ]


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError):
        when(given_events(), record(PspPayoutStatus.PAID, amount=0))
    with pytest.raises(ValueError):
        when(given_events(PAID), record(PspPayoutStatus.FAILED, payout_id="po_2"))


def test_stripes_statuses_map_to_paid_or_failed_and_the_rest_records_nothing() -> None:
    # The Payout object: "paid, pending, in_transit, canceled or failed".
    assert STRIPE_STATUSES == {"paid": PspPayoutStatus.PAID, "failed": PspPayoutStatus.FAILED}


def test_every_event_keeps_its_name_and_is_the_published_contracts_data() -> None:
    assert psp_payout_stream("po_1") == "psp-payout-po_1"
    for event in (PAID, PspPayoutFailed("po_1", "EUR", 9000, "FAILED", "account_closed")):
        assert EVENTS.decode(event.event_type, event.data) == event
        assert PUBLISHED_TYPES[event.event_type] == "PspPayoutUpdated"
        assert PspPayoutUpdatedData.model_validate(event.data).model_dump() == event.data


statuses = st.sampled_from(list(PspPayoutStatus))


@given(st.lists(statuses, max_size=12))
def test_paid_once_first_then_at_most_one_failure_whatever_the_order(sequence: list[PspPayoutStatus]) -> None:
    state, history = DECIDER.initial, list[DomainEvent]()
    for status in sequence:
        events = when(state, record(status))
        history += events
        state = DECIDER.fold(state, events)
    kinds = [type(e) for e in history]
    assert kinds == ([PspPayoutPaid] if sequence else []) + (
        [PspPayoutFailed] if PspPayoutStatus.FAILED in sequence else []
    )
    # The books: what left and what came back are the same amount, so a failed payout nets to nothing.
    out = sum(e.amount_minor for e in history if isinstance(e, PspPayoutPaid))
    back = sum(e.amount_minor for e in history if isinstance(e, PspPayoutFailed))
    assert back in (0, out)
