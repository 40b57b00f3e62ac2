"""Which merchant event each of our integration events becomes, its body, and its time-ordered stable id."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.catalog import API_VERSION, EVENT_ID, EVENT_TYPES, event_id, id_bounds, merchant_event
from notifier.http_models import EventType

AT = datetime(2026, 11, 25, 10, 0, 1, 234567, tzinfo=UTC)


def payment(status: str, **extra: object) -> dict[str, object]:
    return {
        "payment_order_id": "po-1",
        "merchant_id": "merchant-1",
        "amount": "12.34",
        "amount_minor": 1234,
        "currency": "EUR",
        "status": status,
        **extra,
    }


def refund(status: str) -> dict[str, object]:
    return {
        "refund_id": "rf_1",
        "payment_order_id": "po-1",
        "merchant_id": "merchant-1",
        "amount": "5.00",
        "amount_minor": 500,
        "currency": "EUR",
        "status": status,
    }


def dispute(status: str) -> dict[str, object]:
    return {
        "dispute_id": "dp_1",
        "payment_order_id": "po-1",
        "merchant_id": "merchant-1",
        "currency": "EUR",
        "amount_minor": 1234,
        "fee_minor": 1500,
        "status": status,
        "reason": "fraudulent",
    }


ACTION = {
    "payment_order_id": "po-1",
    "merchant_id": "merchant-1",
    "status": "REQUIRES_ACTION",
    "psp_reference": "pi_1",
    "next_action_type": "redirect_to_url",
    "redirect_url": "https://hooks.stripe.com/x",
    "client_secret": "pi_1_secret_x",
}
PAYOUT = {"payout_id": "po_1", "merchant_id": "merchant-1", "amount_minor": 500, "currency": "JPY", "created": "t"}


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        ("PaymentStatusUpdated", payment("SUCCESS"), "payment.succeeded"),
        ("PaymentStatusUpdated", payment("SUCCESS", amount_authorized_minor=2000), "payment.captured"),
        ("PaymentStatusUpdated", payment("FAILED", decline_code="insufficient_funds"), "payment.failed"),
        ("PaymentStatusUpdated", payment("AUTHORIZED", amount_authorized_minor=1234), "payment.authorized"),
        ("PaymentStatusUpdated", payment("CANCELED", amount_authorized_minor=1234), "payment.canceled"),
        ("PaymentActionRequired", ACTION, "payment.requires_action"),
        ("RefundStatusUpdated", refund("SUCCEEDED"), "refund.succeeded"),
        ("RefundStatusUpdated", refund("FAILED"), "refund.failed"),
        ("RefundStatusUpdated", refund("REVERSED"), "refund.failed"),
        ("DisputeStatusUpdated", dispute("OPENED"), "dispute.opened"),
        ("DisputeStatusUpdated", dispute("WON"), "dispute.closed"),
        ("DisputeStatusUpdated", dispute("LOST"), "dispute.closed"),
        ("PayoutPaid", PAYOUT, "payout.paid"),
    ],
)
def test_each_source_event_becomes_its_merchant_event(source: str, data: dict[str, object], expected: str) -> None:
    event = merchant_event(source, "e1", AT, data)
    assert event is not None and event.type == expected and expected in EVENT_TYPES
    body = json.loads(event.body)
    assert body["id"] == event.event_id and body["type"] == expected and body["api_version"] == API_VERSION
    assert body["object"] == "event" and body["created"] == event.created == int(AT.timestamp())
    obj = body["data"]["object"]
    assert obj["merchant_id"] == "merchant-1" and obj["status"] == data.get("status", "PAID")
    assert "client_secret" not in event.body  # Stripe: never stored nor logged; this body is both


def test_money_is_minor_units_and_the_currency_s_decimal_string() -> None:
    event = merchant_event("PayoutPaid", "e1", AT, PAYOUT)
    assert event is not None
    assert json.loads(event.body)["data"]["object"] == {
        "id": "po_1",
        "object": "payout",
        "merchant_id": "merchant-1",
        "status": "PAID",
        "amount": "500",
        "amount_minor": 500,
        "currency": "JPY",
        "created": "t",
    }


def test_a_redelivered_source_event_makes_the_same_event_byte_for_byte() -> None:
    first = merchant_event("RefundStatusUpdated", "e1", AT, refund("SUCCEEDED"))
    again = merchant_event("RefundStatusUpdated", "e1", AT, refund("SUCCEEDED"))
    other = merchant_event("RefundStatusUpdated", "e2", AT, refund("SUCCEEDED"))
    assert first == again and first is not None and other is not None and other.event_id != first.event_id


def test_events_merchants_do_not_hear_about_make_none() -> None:
    assert merchant_event("PaymentInitiated", "e1", AT, {"merchant_id": "m"}) is None


@given(st.integers(0, 10**13 - 1), st.integers(0, 10**13 - 1), st.uuids(), st.uuids())
def test_event_ids_sort_by_time(ms_a: int, ms_b: int, source_a: object, source_b: object) -> None:
    a, b = event_id(ms_a, str(source_a)), event_id(ms_b, str(source_b))
    assert EVENT_ID.fullmatch(a) and len(a) == len(b)
    if ms_a < ms_b:
        assert a < b


@given(st.integers(0, 4 * 10**9), st.integers(0, 10**6), st.integers(0, 10**6), st.uuids())
def test_the_created_bounds_hold_exactly_the_events_created_within(
    created_ms: int, below: int, above: int, source: object
) -> None:
    identifier = event_id(created_ms, str(source))
    gte, lte = created_ms // 1000 - below, created_ms // 1000 + above
    low, high = id_bounds(gte, lte)
    assert low <= identifier <= high
    low, _ = id_bounds(created_ms // 1000 + 1, None)
    assert not low <= identifier
    if created_ms >= 1000:
        low, high = id_bounds(None, created_ms // 1000 - 1)
        assert not identifier <= high


def test_created_is_the_source_event_s_second_and_ids_carry_its_millisecond() -> None:
    # 234.999 ms: truncated, never rounded up
    event = merchant_event("PayoutPaid", "e1", AT + timedelta(microseconds=432), PAYOUT)
    assert event is not None and event.event_id.startswith(f"evt_{int(AT.timestamp()) * 1000 + 234:013d}_")


def test_the_api_documents_exactly_the_catalog_s_types() -> None:
    assert set(get_args(EventType)) == EVENT_TYPES
