"""The payment order's decider, given/when/then: one event per well-formed order, refusals only by the rules, a
retry changes nothing, a reused key is refused, a final status never moves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from initializer.domain.card import CardSummary, card_brand, expires_before, is_card_number
from initializer.domain.commands import BuyerInfo, CardEntry, InitiatePayment, RecordPaymentOutcome, SealedPayment
from initializer.domain.errors import IdempotencyKeyReused, PaymentNotFound
from initializer.domain.order import (
    EVENT_SCHEMAS,
    EVENTS,
    PAYMENT_INITIATED,
    PAYMENT_REJECTED,
    OrderStatus,
    PaymentInitiated,
    PaymentOrder,
    PaymentOutcomeRecorded,
    PaymentPolicy,
    order_decider,
)
from payments_shared.domain_events import DomainEvent
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICY = PaymentPolicy(
    max_amounts={"EUR": Money.parse("10000.00", "EUR"), "JPY": Money.parse("1500000", "JPY")},
    blocked_merchants=frozenset({"blocked-1"}),
)
DECIDER = order_decider(POLICY)


def state_after(events: Sequence[DomainEvent]) -> PaymentOrder | None:
    """Given these events (each through its stored data, as a load decodes it)."""
    return DECIDER.fold(DECIDER.initial, [EVENTS.decode(e.event_type, e.data) for e in events])


def when(events: Sequence[DomainEvent], command: SealedPayment | RecordPaymentOutcome) -> Sequence[DomainEvent]:
    return DECIDER.decide(command, state_after(events))


@st.composite
def commands(draw: st.DrawFn) -> SealedPayment:
    currency = draw(st.sampled_from(["EUR", "JPY", "USD", "KWD"]))
    by_card = draw(st.booleans())  # or with a payment method: no card, no expiry, nothing sealed
    return SealedPayment(
        payment_order_id=PaymentOrderId.new(),
        merchant_id=MerchantId(draw(st.sampled_from(["m-1", "m-2", "blocked-1"]))),
        amount=Money(draw(st.integers(-(10**9), 10**10)), currency),
        buyer=BuyerInfo("A", "a@example.com", "GB"),
        card=CardSummary("visa", "1111", "fp") if by_card else None,
        expiry_month=draw(st.integers(1, 12)) if by_card else None,
        expiry_year=draw(st.integers(2020, 2035)) if by_card else None,
        request_fingerprint="rf",
        sealed_payment_details="v1.sealed" if by_card else None,
        received_at=NOW,
        payment_method=None if by_card else "pm_card_visa",
    )


def expected_refusal(command: SealedPayment) -> bool:
    limit = POLICY.max_amounts.get(command.amount.currency)
    return (
        limit is None
        or command.amount.minor <= 0
        or command.amount.minor > limit.minor
        or command.merchant_id == "blocked-1"
        or (command.card is not None and (command.expiry_year or 0, command.expiry_month or 0) < (2026, 11))
    )


@given(commands())
def test_every_well_formed_order_emits_exactly_one_event_matching_the_rules(command: SealedPayment) -> None:
    [event] = when([], command)
    assert event.event_type == (PAYMENT_REJECTED if expected_refusal(command) else PAYMENT_INITIATED)
    order = state_after([event])
    assert order == DECIDER.evolve(None, event)  # the state is the event applied, the same through its stored data
    assert order is not None and order.amount == command.amount and order.merchant_id == command.merchant_id
    assert order.status == (OrderStatus.FAILED if expected_refusal(command) else OrderStatus.INITIATED)
    assert (order.failure_reason is not None) == expected_refusal(command)
    assert order.created_at == NOW and order.request_fingerprint == "rf"


@given(commands())
def test_an_event_names_the_card_by_its_summary_and_only_a_charged_order_carries_the_sealed_details(
    command: SealedPayment,
) -> None:
    # The command holds no card number (the app seals it first): that no event, row, span or log holds one is
    # test_initializer_handler's property, with real numbers through the whole request.
    [event] = when([], command)
    by_card = command.card is not None
    assert event.data["card"] == ({"brand": "visa", "last4": "1111", "fingerprint": "fp"} if by_card else None)
    assert event.data["payment_method"] == command.payment_method
    assert ("payment_details" in event.data) == (event.event_type == PAYMENT_INITIATED)
    if event.event_type == PAYMENT_INITIATED:
        assert event.data["payment_details"] == command.sealed_payment_details


ORDER = PaymentOrderId("0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f")
INITIATE = SealedPayment(
    ORDER,
    MerchantId("m-1"),
    Money(100, "EUR"),
    BuyerInfo("A", "a@b.c", "GB"),
    CardSummary("visa", "1111", "fp"),
    12,
    2030,
    "rf",
    "v1.sealed",
    NOW,
)


def initiate(**changes: Any) -> SealedPayment:
    return replace(INITIATE, **changes)


def outcome(status: str, event_id: str = "evt-1", error: str | None = None) -> RecordPaymentOutcome:
    return RecordPaymentOutcome(ORDER, status, error, event_id)


def history(final: str) -> list[DomainEvent]:
    """Given an order initiated, then decided `final` by the finalizer's event evt-1."""
    [initiated] = when([], initiate())
    [recorded] = when([initiated], outcome(final, error="declined" if final == "FAILED" else None))
    return [initiated, recorded]


@pytest.mark.parametrize("final", ["SUCCESS", "FAILED"])
def test_an_outcome_is_recorded_once_and_a_final_status_never_moves(final: str) -> None:
    events = history(final)
    assert events[1] == PaymentOutcomeRecorded(final, "declined" if final == "FAILED" else None, "evt-1")
    order = state_after(events)
    assert order is not None and order.status == OrderStatus(final) and order.outcome_event_ids == {"evt-1"}
    assert when(events, outcome(final)) == []  # duplicate delivery
    assert when(events, outcome("SUCCESS" if final == "FAILED" else "FAILED", "evt-2")) == []  # late flip
    assert when(events, outcome("INITIATED", "evt-3")) == []


def test_an_order_not_final_yet_ignores_a_status_that_is_not_final() -> None:
    [initiated] = when([], initiate())
    assert when([initiated], outcome("INITIATED")) == []


def test_an_outcome_before_its_order_is_refused_until_the_order_exists() -> None:
    with pytest.raises(PaymentNotFound):
        when([], outcome("SUCCESS"))


def test_a_retry_changes_nothing_and_a_reused_key_with_another_request_is_refused() -> None:
    events = history("SUCCESS")
    assert when(events, initiate()) == []  # the same request again: the order stands
    assert when(events[:1], initiate()) == []  # before its outcome too
    with pytest.raises(IdempotencyKeyReused):
        when(events, initiate(request_fingerprint="other"))
    with pytest.raises(IdempotencyKeyReused):
        when(events[:1], initiate(request_fingerprint="other"))


def test_the_merchants_request_is_decided_with_the_card_sealed_and_summarised() -> None:
    card = CardEntry("4111111111111111", 12, 2030, "Ada Lovelace")
    request = InitiatePayment(MerchantId("m-1"), Money(100, "EUR"), BuyerInfo("A", "a@b.c", "GB"), card, "k-1")
    sealed = request.sealed(ORDER, "fp", "v1.sealed", NOW)
    assert sealed == initiate(request_fingerprint=request.fingerprint("fp"))
    assert "4111111111111111" not in repr(sealed) and "4111111111111111" not in repr(request)
    [event] = when([], sealed)
    assert isinstance(event, PaymentInitiated) and event.payment_details == "v1.sealed"


def test_the_request_fingerprint_tells_another_card_or_request_from_a_retry() -> None:
    card = CardEntry("4111111111111111", 12, 2030, "Ada Lovelace")
    request = InitiatePayment(MerchantId("m-1"), Money(100, "EUR"), BuyerInfo("A", "a@b.c", "GB"), card)
    assert request.fingerprint("fp") == request.fingerprint("fp") != request.fingerprint("another card's fp")
    other = InitiatePayment(MerchantId("m-1"), Money(101, "EUR"), BuyerInfo("A", "a@b.c", "GB"), card)
    assert other.fingerprint("fp") != request.fingerprint("fp")


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
def test_an_order_recorded_before_buyers_were_kept_reads_as_today_with_its_country(command: SealedPayment) -> None:
    assume(command.card is not None)  # versions 1 and 2 knew only cards
    [event] = when([], command)
    version_1 = {k: v for k, v in event.data.items() if k != "buyer"}  # as the code before version 2 wrote it
    upcast = EVENT_SCHEMAS.upcast(event.event_type, 1, version_1)
    assert upcast == {**event.data, "buyer": {"country": "GB"}}
    assert EVENT_SCHEMAS.current(event.event_type) == 3
    version_2 = {k: v for k, v in event.data.items() if k != "payment_method"}  # every order paid by card
    assert EVENT_SCHEMAS.upcast(event.event_type, 2, version_2) == {**event.data, "payment_method": None}
    assert DECIDER.evolve(None, EVENTS.decode(event.event_type, upcast)) == state_after([event])
