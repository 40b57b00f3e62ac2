"""The order's refund rules as properties of its decider: over any sequence of refund requests and PSP answers,
refunds taken or in flight never exceed the payment, a refund only moves forward, and the status a merchant reads
says how much was taken back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from initializer_testdata import ORDER_ID, order_initiated, refund_request

from initializer.domain.commands import RecordRefundOutcome, RequestRefund
from initializer.domain.errors import PaymentDisputed, PaymentNotRefundable, RefundExceedsRemaining, RefundKeyReused
from initializer.domain.order import (
    EVENTS,
    REFUND_TRANSITIONS,
    DisputeStatusRecorded,
    OrderStatus,
    PaymentOrder,
    PaymentOutcomeRecorded,
    PaymentPolicy,
    RefundStatus,
    order_decider,
)
from payments_shared.domain_events import DomainEvent
from payments_shared.ids import RefundId
from payments_shared.money import Money

DECIDER = order_decider(PaymentPolicy(max_amounts={"EUR": Money.parse("10000.00", "EUR")}))
PAID = 100_00


def paid_order() -> list[DomainEvent]:
    return [order_initiated(PAID), PaymentOutcomeRecorded("SUCCESS", None, "outcome-1")]


def request(key: int, minor: int | None, body: str = "b") -> RequestRefund:
    return refund_request(f"k{key}", minor, body)


steps = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.integers(0, 7), st.one_of(st.none(), st.integers(1, 60_00))),
        st.tuples(st.just("answer"), st.integers(0, 7), st.sampled_from(list(RefundStatus)[1:]), st.integers(0, 3)),
    ),
    max_size=40,
)


@given(steps)
def test_refunds_never_exceed_the_payment_and_only_move_forward(script: list[tuple]) -> None:
    order: PaymentOrder | None = DECIDER.fold(DECIDER.initial, paid_order())
    for step in script:
        assert order is not None
        before = {r.refund_id: r.status for r in order.refunds}
        if step[0] == "ask":
            _, key, minor = step
            command = request(key, minor)
            try:
                events = DECIDER.decide(command, order)
            except RefundKeyReused:
                assert command.refund_id in before  # the same key with another amount
                continue
            except (RefundExceedsRemaining, PaymentNotRefundable) as refused:
                left = order.left_to_refund().minor
                assert left == 0 or (minor is not None and minor > left), refused
                continue
            if command.refund_id in before:
                assert events == []  # a retry
        else:
            _, key, status, delivery = step
            refund_id = RefundId.for_idempotency_key(ORDER_ID, f"k{key}")
            if refund_id not in before:
                continue
            answer = RecordRefundOutcome(ORDER_ID, refund_id, status.value, None, f"{refund_id}-{status}-{delivery}")
            events = DECIDER.decide(answer, order)
        # Each event through its stored data, as a load decodes it.
        order = DECIDER.fold(order, [EVENTS.decode(e.event_type, e.data) for e in events])
        assert order is not None

        in_flight_or_taken = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)
        held = sum(r.amount.minor for r in order.refunds if r.status in in_flight_or_taken)
        assert held <= PAID and order.left_to_refund().minor == PAID - held
        for refund in order.refunds:
            was = before.get(refund.refund_id, RefundStatus.PENDING)
            assert refund.status == was or refund.status in REFUND_TRANSITIONS[was]
        refunded = order.refunded().minor
        expected = (
            OrderStatus.SUCCESS
            if refunded == 0
            else OrderStatus.REFUNDED
            if refunded == PAID
            else OrderStatus.PARTIALLY_REFUNDED
        )
        assert order.shown_status == expected and order.status == OrderStatus.SUCCESS


def test_a_payment_not_yet_successful_is_not_refundable() -> None:
    initiated = paid_order()[:1]
    order = DECIDER.fold(DECIDER.initial, initiated)
    try:
        DECIDER.decide(request(1, 10_00), order)
    except PaymentNotRefundable as refused:
        assert "INITIATED" in str(refused)
    else:
        raise AssertionError("an INITIATED payment was refunded")


def dispute_recorded(status: str, dispute_id: str = "dp_1") -> DisputeStatusRecorded:
    return DisputeStatusRecorded(dispute_id, 40_00, 15_00, "EUR", status, "fraudulent", f"{dispute_id}-{status}")


@given(minor=st.one_of(st.none(), st.integers(1, PAID)))
def test_given_an_open_dispute_when_a_refund_is_asked_then_it_is_refused_naming_the_dispute(minor: int | None) -> None:
    order = DECIDER.fold(DECIDER.initial, [*paid_order(), dispute_recorded("OPENED", "dp_open")])
    try:
        DECIDER.decide(request(1, minor), order)
    except PaymentDisputed as refused:
        assert refused.dispute_ids == ("dp_open",) and "dp_open" in str(refused)
    else:
        raise AssertionError("a refund of a disputed payment was asked")


def test_given_a_closed_dispute_when_a_refund_is_asked_then_it_is_requested() -> None:
    events = [*paid_order(), dispute_recorded("OPENED"), dispute_recorded("LOST")]
    order = DECIDER.fold(DECIDER.initial, events)
    [asked] = DECIDER.decide(request(1, 10_00), order)
    assert asked.event_type == "RefundRequested"
