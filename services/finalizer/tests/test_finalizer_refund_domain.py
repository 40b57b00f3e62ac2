"""The refund decider, given/when/then, and its rules as properties over any sequence of answers and failures
(no store, no PSP)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finalizer.domain.psp_views import RefundAnswer, RefundStatus
from finalizer.domain.refund import (
    DECIDER,
    EVENTS,
    RecordRefundAnswer,
    RecordRefundFailure,
    Refund,
    RefundCommand,
    RefundFailed,
    RefundNotRecorded,
    RefundReversed,
    RefundSucceeded,
    RequestRefund,
)
from finalizer.domain.streams import refund_stream
from payments_shared.contracts import RefundStatusUpdatedData
from payments_shared.domain_events import DomainEvent
from payments_shared.ids import MerchantId, PaymentOrderId, RefundId
from payments_shared.money import Money

ORDER = PaymentOrderId("0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f")
REFUND_ID = RefundId.for_idempotency_key(ORDER, "key-1")
REQUEST = RequestRefund(
    REFUND_ID, ORDER, MerchantId("merchant-1"), Money(500, "EUR"), "requested_by_customer", "corr-1", "evt-1"
)
TAKEN = RefundAnswer(RefundStatus.SUCCEEDED, "re_1")
REFUSED = RefundAnswer(RefundStatus.FAILED, None, "amount_too_large: Refund amount (€5.00) is greater than …")
NETWORK_FAILED = RecordRefundFailure("re_1", "expired_or_canceled_card")

SUCCEEDED = RefundSucceeded(
    refund_id=REFUND_ID,
    payment_order_id=ORDER,
    merchant_id="merchant-1",
    amount="5.00",
    amount_minor=500,
    currency="EUR",
    status="SUCCEEDED",
    psp_reference="re_1",
    failure_reason=None,
)


def given_events(*events: DomainEvent) -> Refund:
    return DECIDER.fold(DECIDER.initial, events)


def when(state: Refund, command: RefundCommand) -> Sequence[DomainEvent]:
    return DECIDER.decide(command, state)


def test_the_psps_taking_the_refund_records_it_succeeded_on_the_requests_terms() -> None:
    assert when(given_events(), RecordRefundAnswer(REQUEST, TAKEN)) == [SUCCEEDED]
    assert given_events(SUCCEEDED).status == RefundStatus.SUCCEEDED


def test_a_refusal_records_it_failed_with_the_reason() -> None:
    [failed] = when(given_events(), RecordRefundAnswer(REQUEST, REFUSED))
    assert isinstance(failed, RefundFailed) and failed.status == "FAILED" and failed.psp_reference is None
    assert failed.failure_reason == REFUSED.failure_reason


def test_a_redelivered_answer_changes_nothing_whatever_it_says() -> None:
    assert when(given_events(SUCCEEDED), RecordRefundAnswer(REQUEST, TAKEN)) == []
    assert when(given_events(SUCCEEDED), RecordRefundAnswer(REQUEST, REFUSED)) == []


def test_a_later_failure_reverses_a_succeeded_refund_once() -> None:
    [reversed_] = when(given_events(SUCCEEDED), NETWORK_FAILED)
    assert reversed_ == RefundReversed(
        **{**SUCCEEDED.data, "status": "REVERSED", "failure_reason": "expired_or_canceled_card"}
    )
    assert given_events(SUCCEEDED, reversed_).status == RefundStatus.REVERSED
    assert when(given_events(SUCCEEDED, reversed_), NETWORK_FAILED) == []


def test_a_failure_of_a_failed_refund_changes_nothing() -> None:
    [failed] = when(given_events(), RecordRefundAnswer(REQUEST, REFUSED))
    assert when(given_events(failed), NETWORK_FAILED) == []


def test_a_failure_before_any_answer_is_recorded_is_refused_for_now() -> None:
    with pytest.raises(RefundNotRecorded):
        when(given_events(), NETWORK_FAILED)


def test_a_failure_of_another_psp_refund_is_refused() -> None:
    with pytest.raises(ValueError, match="re_other"):
        when(given_events(SUCCEEDED), RecordRefundFailure("re_other", None))


def test_every_event_keeps_its_name_and_is_the_published_contracts_data() -> None:
    [reversed_] = when(given_events(SUCCEEDED), NETWORK_FAILED)
    [failed] = when(given_events(), RecordRefundAnswer(REQUEST, REFUSED))
    for event in (SUCCEEDED, failed, reversed_):
        assert EVENTS.decode(event.event_type, event.data) == event
        assert RefundStatusUpdatedData.model_validate(event.data).model_dump() == event.data
    assert refund_stream(REFUND_ID) == f"refund-{REFUND_ID}"


# Properties: any sequence of the PSP's answers and later failures, as deliveries and webhooks bring them.
answers = st.sampled_from([TAKEN, REFUSED])
commands = st.one_of(
    answers.map(lambda answer: RecordRefundAnswer(REQUEST, answer)),
    st.sampled_from([NETWORK_FAILED]),
)


def run(sequence: list[RefundCommand]) -> list[DomainEvent]:
    """Decide each command on the state the earlier ones left (a refused one, as a webhook too early, adds none)."""
    state, recorded = DECIDER.initial, list[DomainEvent]()
    for command in sequence:
        try:
            events = DECIDER.decide(command, state)
        except RefundNotRecorded:
            continue
        recorded.extend(events)
        state = DECIDER.fold(state, events)
    return recorded


@given(st.lists(commands, max_size=12))
def test_the_first_answer_stands_and_is_the_streams_first_event(sequence: list[RefundCommand]) -> None:
    recorded = run(sequence)
    first_answer = next((c.answer for c in sequence if isinstance(c, RecordRefundAnswer)), None)
    answered = [e for e in recorded if isinstance(e, RefundSucceeded | RefundFailed)]
    if first_answer is None:
        assert recorded == []
    else:
        assert len(answered) == 1 and recorded[0] is answered[0]
        assert answered[0].status == first_answer.status.value


@given(st.lists(commands, max_size=12))
def test_reversed_only_after_succeeded_and_at_most_once(sequence: list[RefundCommand]) -> None:
    statuses = [e.data["status"] for e in run(sequence)]
    assert statuses.count("REVERSED") <= 1
    if "REVERSED" in statuses:
        assert statuses[: statuses.index("REVERSED")] == ["SUCCEEDED"]


@given(st.lists(commands, max_size=12))
def test_a_failed_refund_never_becomes_succeeded(sequence: list[RefundCommand]) -> None:
    statuses = [e.data["status"] for e in run(sequence)]
    if "FAILED" in statuses:
        assert statuses == ["FAILED"]
