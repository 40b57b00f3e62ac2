"""The payment decider for manual capture, given/when/then: an approved manual-capture charge is AUTHORIZED; the
PSP's answer to its capture makes it SUCCESS with the captured amount, to its cancel CANCELED; both are final.
Hypothesis: over any sequence of answers the first final one stands, and no SUCCESS books more than was held."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given as any_of
from hypothesis import strategies as st

from finalizer.domain.payment import (
    DECIDER,
    EVENTS,
    ChargePayment,
    ChargeResult,
    NextAction,
    Payment,
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentCommand,
    PaymentStatus,
    PaymentSucceeded,
    PspDecision,
    RecordCharge,
    RecordSettlement,
)
from finalizer.domain.streams import PUBLISHED_TYPES
from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.domain_events import DomainEvent
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money

ORDER = PaymentOrderId("0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f")
CHARGE = ChargePayment(
    ORDER, MerchantId("merchant-1"), Money(1234, "EUR"), "sealed", "corr-1", "evt-1", capture_method="manual"
)
HELD = ChargeResult(PspDecision.AUTHORIZED, "pi_1", None)
AUTHORIZED = PaymentAuthorized(
    payment_order_id=ORDER,
    merchant_id="merchant-1",
    amount="12.34",
    amount_minor=1234,
    currency="EUR",
    psp_reference="pi_1",
)


def captured(minor: int | None) -> ChargeResult:
    return ChargeResult(PspDecision.APPROVED, "pi_1", None, captured=None if minor is None else Money(minor, "EUR"))


RELEASED = ChargeResult(PspDecision.DECLINED, "pi_1", "requested_by_customer: canceled", "requested_by_customer")


def given(*events: DomainEvent) -> Payment:
    return DECIDER.fold(DECIDER.initial, events)


def settle(state: Payment, result: ChargeResult) -> Sequence[DomainEvent]:
    return DECIDER.decide(RecordSettlement(result), state)


def test_an_approved_manual_capture_charge_is_authorized_not_final() -> None:
    assert DECIDER.decide(RecordCharge(CHARGE, HELD), given()) == [AUTHORIZED]
    assert given(AUTHORIZED).status == PaymentStatus.AUTHORIZED
    assert PaymentStatus.AUTHORIZED not in {PaymentStatus.SUCCESS, PaymentStatus.FAILED}


def test_an_authentication_then_an_authorization() -> None:
    action = PaymentActionRequired(
        payment_order_id=ORDER,
        merchant_id="merchant-1",
        amount="12.34",
        amount_minor=1234,
        currency="EUR",
        psp_reference="pi_1",
        next_action_type="redirect_to_url",
        redirect_url="https://psp/3ds",
        client_secret=None,
    )
    assert settle(given(action), HELD) == [AUTHORIZED]


def test_a_partial_capture_succeeds_with_the_captured_amount_and_the_authorized_one() -> None:
    [event] = settle(given(AUTHORIZED), captured(1000))

    assert isinstance(event, PaymentSucceeded)
    assert (event.status, event.amount_minor, event.amount, event.amount_authorized_minor) == (
        "SUCCESS",
        1000,
        "10.00",
        1234,
    )


def test_a_capture_carries_the_psps_fee_on_what_was_captured() -> None:
    fee = Money(59, "EUR")  # Stripe's balance transaction of the captured 10.00, not of the 12.34 held
    result = ChargeResult(PspDecision.APPROVED, "pi_1", None, captured=Money(1000, "EUR"), psp_fee=fee)
    [event] = settle(given(AUTHORIZED), result)
    assert isinstance(event, PaymentSucceeded) and (event.amount_minor, event.psp_fee_minor) == (1000, 59)


def test_a_capture_without_an_amount_is_of_the_whole_authorization() -> None:
    [event] = settle(given(AUTHORIZED), captured(None))
    assert (event.data["amount_minor"], event.data["amount_authorized_minor"]) == (1234, 1234)


def test_a_capture_of_more_than_was_held_or_of_nothing_is_refused() -> None:
    for minor in (1235, 0):
        with pytest.raises(ValueError):
            settle(given(AUTHORIZED), captured(minor))


def test_a_cancel_releases_it_canceled_with_the_psps_reason() -> None:
    [event] = settle(given(AUTHORIZED), RELEASED)

    assert isinstance(event, PaymentCanceled)
    assert (event.status, event.amount_minor, event.decline_code) == ("CANCELED", 1234, "requested_by_customer")
    assert given(AUTHORIZED, event).status == PaymentStatus.CANCELED


def test_still_held_adds_nothing_and_another_intent_is_refused() -> None:
    assert settle(given(AUTHORIZED), HELD) == []
    with pytest.raises(ValueError):
        settle(given(AUTHORIZED), ChargeResult(PspDecision.APPROVED, "pi_other", None))
    with pytest.raises(ValueError):
        settle(given(AUTHORIZED), ChargeResult(PspDecision.REQUIRES_ACTION, "pi_1", None, None, NextAction("x")))


def test_captured_and_canceled_are_final() -> None:
    [success] = settle(given(AUTHORIZED), captured(1000))
    [canceled] = settle(given(AUTHORIZED), RELEASED)
    for final in (success, canceled):
        assert settle(given(AUTHORIZED, final), RELEASED) == []
        assert settle(given(AUTHORIZED, final), captured(1234)) == []


def test_each_event_is_the_published_contracts_data_and_decodes_back() -> None:
    [success] = settle(given(AUTHORIZED), captured(1000))
    [canceled] = settle(given(AUTHORIZED), RELEASED)
    for event in (AUTHORIZED, success, canceled):
        assert PUBLISHED_TYPES[event.event_type] == "PaymentStatusUpdated"
        published = PaymentStatusUpdatedData.model_validate(event.data)
        assert published.money() == Money(event.data["amount_minor"], "EUR")
        assert EVENTS.decode(event.event_type, event.data) == event
    assert PaymentStatusUpdatedData.model_validate(AUTHORIZED.data).amount_authorized_minor is None


answers = st.one_of(
    st.just(HELD),
    st.just(RELEASED),
    st.builds(captured, st.one_of(st.none(), st.integers(min_value=1, max_value=1234))),
)
commands: st.SearchStrategy[PaymentCommand] = st.one_of(
    answers.map(lambda answer: RecordCharge(CHARGE, answer)), answers.map(RecordSettlement)
)


def run(sequence: list[PaymentCommand]) -> list[DomainEvent]:
    state, events = DECIDER.initial, list[DomainEvent]()
    for command in sequence:
        try:
            new = DECIDER.decide(command, state)
        except ValueError:
            continue  # a settlement before anything was recorded: refused, nothing written
        events.extend(new)
        state = DECIDER.fold(state, new)
    return events


@any_of(st.lists(commands, max_size=12))
def test_at_most_one_authorization_and_one_final_outcome_after_it(sequence: list[PaymentCommand]) -> None:
    events = run(sequence)
    finals = [e for e in events if e.data["status"] in ("SUCCESS", "FAILED", "CANCELED")]
    assert len(finals) <= 1
    assert len([e for e in events if isinstance(e, PaymentAuthorized)]) <= 1
    if finals:
        assert events[-1] is finals[0]  # nothing after the final outcome


@any_of(st.lists(commands, max_size=12))
def test_a_success_never_books_more_than_was_authorized(sequence: list[PaymentCommand]) -> None:
    for event in run(sequence):
        if isinstance(event, PaymentSucceeded) and event.amount_authorized_minor is not None:
            assert 0 < event.amount_minor <= event.amount_authorized_minor == 1234
