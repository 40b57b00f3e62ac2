"""Properties of the PaymentOrder decision: one event per well-formed order, refusals only by the rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from initializer.domain.card import CardSummary, card_brand, expires_before, is_card_number
from initializer.domain.errors import IdempotencyKeyReused
from initializer.domain.order import (
    PAYMENT_INITIATED,
    PAYMENT_REJECTED,
    SCHEMAS,
    BuyerInfo,
    InitiatePayment,
    OrderStatus,
    PaymentOrder,
    PaymentPolicy,
    fold,
)
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICY = PaymentPolicy(
    max_amounts={"EUR": Money.parse("10000.00", "EUR"), "JPY": Money.parse("1500000", "JPY")},
    blocked_merchants=frozenset({"blocked-1"}),
)


@st.composite
def commands(draw: st.DrawFn) -> InitiatePayment:
    currency = draw(st.sampled_from(["EUR", "JPY", "USD", "KWD"]))
    return InitiatePayment(
        payment_order_id=PaymentOrderId.new(),
        merchant_id=MerchantId(draw(st.sampled_from(["m-1", "m-2", "blocked-1"]))),
        amount=Money(draw(st.integers(-(10**9), 10**10)), currency),
        buyer=BuyerInfo("A", "a@example.com", "GB"),
        card=CardSummary("visa", "1111", "fp"),
        expiry_month=draw(st.integers(1, 12)),
        expiry_year=draw(st.integers(2020, 2035)),
        request_fingerprint="rf",
        sealed_payment_details="v1.sealed",
    )


def expected_refusal(command: InitiatePayment) -> bool:
    limit = POLICY.max_amounts.get(command.amount.currency)
    return (
        limit is None
        or command.amount.minor <= 0
        or command.amount.minor > limit.minor
        or command.merchant_id == "blocked-1"
        or (command.expiry_year, command.expiry_month) < (2026, 11)
    )


@given(commands())
def test_every_well_formed_order_emits_exactly_one_event_matching_the_rules(command: InitiatePayment) -> None:
    order = PaymentOrder.initiate(command, POLICY, NOW)
    [event] = order.pending
    assert event.event_type == (PAYMENT_REJECTED if expected_refusal(command) else PAYMENT_INITIATED)
    assert order == fold([(1, event.event_type, event.data)])  # the state is the event applied
    assert order.amount == command.amount and order.merchant_id == command.merchant_id
    assert order.status == (OrderStatus.FAILED if expected_refusal(command) else OrderStatus.INITIATED)
    assert (order.failure_reason is not None) == expected_refusal(command)


@given(commands())
def test_an_event_names_the_card_by_its_summary_and_only_a_charged_order_carries_the_sealed_details(
    command: InitiatePayment,
) -> None:
    # The command holds no card number (the app seals it first): that no event, row, span or log holds one is
    # test_initializer_handler's property, with real numbers through the whole request.
    [event] = PaymentOrder.initiate(command, POLICY, NOW).pending
    assert event.data["card"] == {"brand": "visa", "last4": "1111", "fingerprint": "fp"}
    assert ("payment_details" in event.data) == (event.event_type == PAYMENT_INITIATED)
    if event.event_type == PAYMENT_INITIATED:
        assert event.data["payment_details"] == command.sealed_payment_details


def order_after(status: str) -> PaymentOrder:
    command = InitiatePayment(
        PaymentOrderId.new(),
        MerchantId("m-1"),
        Money(100, "EUR"),
        BuyerInfo("A", "a@b.c", "GB"),
        CardSummary("visa", "1111", "fp"),
        12,
        2030,
        "rf",
        "v1.sealed",
    )
    order = PaymentOrder.initiate(command, POLICY, NOW)
    [first] = order.pending
    recorded = order.record_outcome(status, "declined" if status == "FAILED" else None, "evt-1")
    [outcome] = recorded.pending[1:]
    assert recorded == fold([(1, first.event_type, first.data), (2, outcome.event_type, outcome.data)])
    return recorded


@pytest.mark.parametrize("final", ["SUCCESS", "FAILED"])
def test_final_status_never_moves_and_duplicates_change_nothing(final: str) -> None:
    order = order_after(final)
    assert order.status == OrderStatus(final) and order.version == 2
    loaded = replace(order, pending=())  # as the store loads it: nothing pending
    assert loaded.record_outcome(final, None, "evt-1").pending == ()  # duplicate delivery
    assert loaded.record_outcome("SUCCESS" if final == "FAILED" else "FAILED", None, "evt-2").pending == ()  # late
    assert loaded.record_outcome("INITIATED", None, "evt-3").pending == ()


def test_a_reused_key_with_another_request_is_refused() -> None:
    order = order_after("SUCCESS")
    order.ensure_same_request("rf")
    with pytest.raises(IdempotencyKeyReused):
        order.ensure_same_request("other")


@pytest.mark.parametrize(
    ("pan", "brand", "valid"),
    [
        ("4111111111111111", "visa", True),
        ("5555555555554444", "mastercard", True),
        ("2223003122003222", "mastercard", True),
        ("378282246310005", "amex", True),
        ("6011111111111117", "discover", True),
        ("4111111111111112", "visa", False),
        ("0000000000000", "unknown", True),
    ],
)
def test_card_brand_and_luhn(pan: str, brand: str, valid: bool) -> None:
    assert card_brand(pan) == brand and is_card_number(pan) is valid


def test_a_card_is_valid_through_its_expiry_month() -> None:
    assert not expires_before(11, 2026, date(2026, 11, 30))
    assert expires_before(10, 2026, date(2026, 11, 1))
    assert expires_before(12, 2025, date(2026, 1, 1))


@given(commands())
def test_an_order_recorded_before_buyers_were_kept_reads_as_today_with_its_country(command: InitiatePayment) -> None:
    [event] = PaymentOrder.initiate(command, POLICY, NOW).pending
    version_1 = {k: v for k, v in event.data.items() if k != "buyer"}  # as the code before version 2 wrote it
    upcast = SCHEMAS.upcast(event.event_type, 1, version_1)
    assert upcast == {**event.data, "buyer": {"country": "GB"}}
    assert SCHEMAS.current(event.event_type) == 2 and SCHEMAS.upcast(event.event_type, 2, event.data) == event.data
    assert fold([(1, event.event_type, upcast)]) == fold([(1, event.event_type, event.data)])
