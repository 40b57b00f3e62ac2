"""The order's manual-capture rules as properties of its decider: over any sequence of captures, cancels, the
PSP's answers (in any order, late or duplicated) and refunds, the capture never exceeds the authorization, an
authorization is settled once, the status only moves forward, and refunds never exceed what was captured."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from initializer_testdata import NOW, ORDER_ID, order_initiated, refund_request

from initializer.domain.commands import RecordPaymentOutcome, RequestCancel, RequestCapture, RequestRefund
from initializer.domain.errors import (
    AuthorizationAlreadySettled,
    CaptureExceedsAuthorized,
    CaptureKeyReused,
    PaymentNotAuthorized,
    PaymentNotRefundable,
    RefundExceedsRemaining,
    RefundKeyReused,
)
from initializer.domain.order import EVENTS, OrderStatus, PaymentInitiated, PaymentOrder, PaymentPolicy, order_decider
from payments_shared.domain_events import DomainEvent
from payments_shared.money import Money

DECIDER = order_decider(PaymentPolicy(max_amounts={"EUR": Money.parse("10000.00", "EUR")}))
AUTHORIZED = 100_00
# Where each status may go next (anything else is a late or duplicate answer, which changes nothing).
FORWARD = {
    OrderStatus.INITIATED: {OrderStatus.AUTHORIZED, OrderStatus.SUCCESS, OrderStatus.CANCELED, OrderStatus.FAILED},
    OrderStatus.AUTHORIZED: {OrderStatus.SUCCESS, OrderStatus.CANCELED, OrderStatus.FAILED},
}


def manual_order() -> list[DomainEvent]:
    return [order_initiated(AUTHORIZED, capture_method="manual")]


def capture(key: int, minor: int | None) -> RequestCapture:
    amount = None if minor is None else Money(minor, "EUR")
    return RequestCapture(ORDER_ID, amount, f"k{key}", RequestCapture.fingerprint(str(minor), "EUR"), NOW, "merchant-1")


def cancel(key: int) -> RequestCancel:
    return RequestCancel(ORDER_ID, None, f"k{key}", RequestCancel.fingerprint(None), NOW, "merchant-1")


def refund(key: int, minor: int) -> RequestRefund:
    return refund_request(f"r{key}", minor)


def answer(order: PaymentOrder, status: str, delivery: int) -> RecordPaymentOutcome:
    """The finalizer's status: SUCCESS carries what the capture asked (the order's amount without one)."""
    asked = order.settlement.amount if order.settlement is not None else None
    minor = AUTHORIZED if status == "AUTHORIZED" else (asked.minor if asked is not None else None)
    return RecordPaymentOutcome(ORDER_ID, status, None, f"{status}-{delivery}", amount_minor=minor)


steps = st.lists(
    st.one_of(
        st.tuples(st.just("capture"), st.integers(0, 3), st.one_of(st.none(), st.integers(-10, 120_00))),
        st.tuples(st.just("cancel"), st.integers(0, 3)),
        st.tuples(st.just("psp"), st.sampled_from(["AUTHORIZED", "SUCCESS", "CANCELED", "FAILED"]), st.integers(0, 2)),
        st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 60_00)),
    ),
    max_size=30,
)


@given(steps)
def test_captured_never_exceeds_authorized_and_refunds_never_exceed_captured(script: list[tuple]) -> None:
    order: PaymentOrder | None = DECIDER.fold(DECIDER.initial, manual_order())
    for step in script:
        assert order is not None
        before = order
        try:
            if step[0] == "capture":
                events = DECIDER.decide(capture(step[1], step[2]), order)
            elif step[0] == "cancel":
                events = DECIDER.decide(cancel(step[1]), order)
            elif step[0] == "psp":
                events = DECIDER.decide(answer(order, step[1], step[2]), order)
            else:
                events = DECIDER.decide(refund(step[1], step[2]), order)
        except (AuthorizationAlreadySettled, CaptureKeyReused):
            assert order.settlement is not None
            continue
        except RefundKeyReused:
            assert order.refund(refund(step[1], step[2]).refund_id) is not None  # the same key, another amount
            continue
        except PaymentNotAuthorized:
            assert order.status != OrderStatus.AUTHORIZED or order.settlement is not None
            continue
        except CaptureExceedsAuthorized:
            assert step[2] is not None and not 0 < step[2] <= AUTHORIZED
            continue
        except (PaymentNotRefundable, RefundExceedsRemaining):
            assert order.status != OrderStatus.SUCCESS or step[2] > order.left_to_refund().minor
            continue
        order = DECIDER.fold(order, [EVENTS.decode(e.event_type, e.data) for e in events])
        assert order is not None

        if before.settlement is not None:
            assert order.settlement == before.settlement  # settled once: a retry or a refusal changes nothing
        assert order.status == before.status or order.status in FORWARD.get(before.status, set())
        if order.status == OrderStatus.SUCCESS:
            assert 0 < order.charged().minor <= AUTHORIZED
        held = sum(r.amount.minor for r in order.refunds if r.holds)
        assert held <= order.charged().minor and order.left_to_refund().minor == order.charged().minor - held


def test_given_an_automatic_order_when_success_says_another_amount_then_the_order_keeps_its_own() -> None:
    automatic = manual_order()[0]
    assert isinstance(automatic, PaymentInitiated)
    order = DECIDER.fold(DECIDER.initial, [replace(automatic, capture_method="automatic")])
    events = DECIDER.decide(RecordPaymentOutcome(ORDER_ID, "SUCCESS", None, "e-1", amount_minor=1), order)
    order = DECIDER.fold(order, events)
    assert order is not None and order.captured is None and order.charged().minor == AUTHORIZED


def test_given_an_authorized_order_when_a_partial_capture_succeeds_then_refunds_are_bounded_by_it() -> None:
    order = DECIDER.fold(DECIDER.initial, manual_order())
    held = RecordPaymentOutcome(ORDER_ID, "AUTHORIZED", None, "e-1", AUTHORIZED)
    order = DECIDER.fold(order, DECIDER.decide(held, order))
    order = DECIDER.fold(order, DECIDER.decide(capture(1, 25_00), order))
    order = DECIDER.fold(order, DECIDER.decide(RecordPaymentOutcome(ORDER_ID, "SUCCESS", None, "e-2", 25_00), order))
    assert order is not None and (order.status, order.charged().minor, order.authorized) == (
        OrderStatus.SUCCESS,
        25_00,
        Money(AUTHORIZED, "EUR"),
    )
    try:
        DECIDER.decide(refund(1, 25_01), order)
    except RefundExceedsRemaining as refused:
        assert "25.00 EUR left to refund" in str(refused)
    else:
        raise AssertionError("refunded more than was captured")
