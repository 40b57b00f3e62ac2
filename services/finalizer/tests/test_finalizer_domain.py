"""The payment decider, given/when/then: given the payment's events, when the PSP's answer is recorded, then
these events (no store, no PSP)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import ModuleType

import pytest
from hypothesis import given as any_of
from hypothesis import strategies as st

import finalizer.domain.payment as payment_module
import finalizer.domain.streams as streams_module
from finalizer.domain.payment import (
    DECIDER,
    EVENTS,
    ChargePayment,
    ChargeResult,
    NextAction,
    Payment,
    PaymentActionRequired,
    PaymentFailed,
    PaymentStatus,
    PaymentSucceeded,
    PspDecision,
    RecordCharge,
    RecordSettlement,
)
from finalizer.domain.streams import PUBLISHED_TYPES, SOURCE, payment_stream
from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.domain_events import DomainEvent
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money

ORDER = PaymentOrderId("0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f")
CHARGE = ChargePayment(ORDER, MerchantId("merchant-1"), Money(1234, "EUR"), "sealed", "corr-1", "evt-1")
APPROVED = ChargeResult(PspDecision.APPROVED, "pi_1", None)
DECLINED = ChargeResult(PspDecision.DECLINED, "pi_2", "insufficient_funds: no money", "insufficient_funds")

SUCCEEDED = PaymentSucceeded(
    payment_order_id=ORDER,
    merchant_id="merchant-1",
    amount="12.34",
    amount_minor=1234,
    currency="EUR",
    status="SUCCESS",
    error_message=None,
    decline_code=None,
    psp_reference="pi_1",
)
FAILED = PaymentFailed(
    payment_order_id=ORDER,
    merchant_id="merchant-1",
    amount="12.34",
    amount_minor=1234,
    currency="EUR",
    status="FAILED",
    error_message="insufficient_funds: no money",
    decline_code="insufficient_funds",
    psp_reference="pi_2",
)


def given(*events: DomainEvent) -> Payment:
    return DECIDER.fold(DECIDER.initial, events)


def when(state: Payment, result: ChargeResult, charge: ChargePayment = CHARGE) -> Sequence[DomainEvent]:
    return DECIDER.decide(RecordCharge(charge, result), state)


def test_an_approval_of_an_undecided_payment_is_its_success() -> None:
    assert when(given(), APPROVED) == [SUCCEEDED]


def test_a_decline_is_its_failure_with_the_psps_reason_and_code() -> None:
    assert when(given(), DECLINED) == [FAILED]


def test_a_decline_without_a_message_still_says_why() -> None:
    [event] = when(given(), ChargeResult(PspDecision.DECLINED, None, None))
    assert isinstance(event, PaymentFailed)
    assert (event.error_message, event.decline_code, event.psp_reference) == ("declined", None, None)


def test_an_approval_carries_no_decline_reason_whatever_the_psp_added() -> None:
    [event] = when(given(), ChargeResult(PspDecision.APPROVED, "pi_3", "ignored", "ignored"))
    assert (event.data["error_message"], event.data["decline_code"], event.data["psp_reference"]) == (
        None,
        None,
        "pi_3",
    )


def test_amounts_are_recorded_in_both_forms_in_the_currencys_minor_units() -> None:
    yen = ChargePayment(ORDER, MerchantId("merchant-1"), Money(500, "JPY"), "sealed", "corr-1")
    [event] = when(given(), APPROVED, yen)
    assert (event.data["amount"], event.data["amount_minor"], event.data["currency"]) == ("500", 500, "JPY")


@pytest.mark.parametrize("decided", [SUCCEEDED, FAILED])
@pytest.mark.parametrize("answer", [APPROVED, DECLINED])
def test_a_decided_payment_keeps_its_first_decision(decided: DomainEvent, answer: ChargeResult) -> None:
    assert when(given(decided), answer) == []


def test_the_state_is_the_decision() -> None:
    assert (given().status, given().outcome) == (None, None)
    assert (given(SUCCEEDED).status, given(SUCCEEDED).outcome) == (PaymentStatus.SUCCESS, SUCCEEDED)
    assert given(FAILED).status == PaymentStatus.FAILED


def test_stored_events_keep_their_names_and_fields() -> None:
    """The event store's data and the published PaymentStatusUpdated depend on these exact names."""
    assert (PaymentSucceeded.event_type, PaymentFailed.event_type) == ("PaymentSucceeded", "PaymentFailed")
    assert list(FAILED.data) == [
        "payment_order_id",
        "merchant_id",
        "amount",
        "amount_minor",
        "currency",
        "status",
        "error_message",
        "decline_code",
        "psp_reference",
        "amount_authorized_minor",
        "psp_fee_minor",
        "initiated_at",
    ]
    for event in (SUCCEEDED, FAILED):
        assert EVENTS.decode(event.event_type, event.data) == event


def test_an_outcome_stored_before_decline_codes_decodes_without_them() -> None:
    old = {k: v for k, v in FAILED.data.items() if k not in ("decline_code", "psp_reference")}
    decoded = EVENTS.decode("PaymentFailed", old)
    assert given(decoded).status == PaymentStatus.FAILED and decoded.data["decline_code"] is None


def test_a_success_carries_the_psps_fee_in_the_payments_currency() -> None:
    [event] = when(given(), ChargeResult(PspDecision.APPROVED, "pi_1", None, psp_fee=Money(66, "EUR")))
    assert event == SUCCEEDED.__class__(**{**SUCCEEDED.data, "psp_fee_minor": 66})


@pytest.mark.parametrize(
    "fee",
    [
        None,  # the PSP has not said yet (Stripe's asynchronous capture: no balance transaction yet)
        Money(52, "USD"),  # settled in another currency (Stripe converted it): not the payment's fee to book
    ],
)
def test_a_success_without_a_fee_in_its_currency_carries_none(fee: Money | None) -> None:
    [event] = when(given(), ChargeResult(PspDecision.APPROVED, "pi_1", None, psp_fee=fee))
    assert event == SUCCEEDED and event.data["psp_fee_minor"] is None


def test_a_decline_carries_no_fee_whatever_the_psp_added() -> None:
    [event] = when(given(), ChargeResult(PspDecision.DECLINED, "pi_2", "no", "no", psp_fee=Money(5, "EUR")))
    assert event.data["psp_fee_minor"] is None


@any_of(
    decision=st.sampled_from([PspDecision.APPROVED, PspDecision.DECLINED]),
    fee_minor=st.integers(0, 10**6),
    fee_currency=st.sampled_from(["EUR", "USD", "JPY"]),
)
def test_only_a_success_carries_a_fee_and_only_in_its_own_currency(
    decision: PspDecision, fee_minor: int, fee_currency: str
) -> None:
    fee = Money(fee_minor, fee_currency)
    [event] = when(given(), ChargeResult(decision, "pi_1", None, psp_fee=fee))
    ours = decision == PspDecision.APPROVED and fee_currency == CHARGE.amount.currency
    assert event.data["psp_fee_minor"] == (fee_minor if ours else None)
    published = PaymentStatusUpdatedData.model_validate(event.data)
    assert published.psp_fee() == (fee if ours and fee_minor > 0 else None)  # what the ledger books


def test_an_outcome_stored_before_fees_decodes_without_one() -> None:
    old = {k: v for k, v in SUCCEEDED.data.items() if k != "psp_fee_minor"}
    assert EVENTS.decode("PaymentSucceeded", old) == SUCCEEDED


def test_a_first_charges_outcome_says_when_the_payment_was_initiated_and_a_later_settlement_does_not() -> None:
    initiated = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    charge = replace(CHARGE, initiated_at=initiated)
    [succeeded] = when(given(), APPROVED, charge)
    [failed] = when(given(), DECLINED, charge)
    assert succeeded.data["initiated_at"] == failed.data["initiated_at"] == initiated.isoformat()
    published = PaymentStatusUpdatedData.model_validate(succeeded.data)
    assert published.initiated_at == initiated  # the initializer records it without reading the order first
    [settled] = settle(given(ACTION_REQUIRED), ChargeResult(PspDecision.APPROVED, "pi_3", None))
    assert settled.data["initiated_at"] is None  # after 3-D Secure the order has moved on: it reads first


def test_a_payments_stream_is_named_by_its_order() -> None:
    assert payment_stream(ORDER) == f"payment-{ORDER}"


def test_both_outcomes_leave_as_payment_status_updated_and_an_authentication_as_its_own_event() -> None:
    assert (SOURCE, PUBLISHED_TYPES) == (
        "payments.finalizer",
        {
            "PaymentSucceeded": "PaymentStatusUpdated",
            "PaymentFailed": "PaymentStatusUpdated",
            "PaymentActionRequired": "PaymentActionRequired",
            "PaymentAuthorized": "PaymentStatusUpdated",
            "PaymentCanceled": "PaymentStatusUpdated",
            "RefundSucceeded": "RefundStatusUpdated",
            "RefundFailed": "RefundStatusUpdated",
            "RefundReversed": "RefundStatusUpdated",
            "DisputeOpened": "DisputeStatusUpdated",
            "DisputeWon": "DisputeStatusUpdated",
            "DisputeLost": "DisputeStatusUpdated",
            "PspPayoutPaid": "PspPayoutUpdated",
            "PspPayoutFailed": "PspPayoutUpdated",
        },
    )


def test_the_command_never_shows_the_sealed_card() -> None:
    assert "sealed" not in repr(CHARGE)


@pytest.mark.parametrize("module", [payment_module, streams_module])
def test_the_domain_imports_no_wire_contract(module: ModuleType) -> None:
    tree = ast.parse(inspect.getsource(module))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {
        m for m in imported if m.startswith(("payments_shared.contracts", "payments_shared.events", "pydantic"))
    }


# 3-D Secure: the payment awaits the buyer, then the PSP's answer for that same intent decides it.
AUTHENTICATE = ChargeResult(
    PspDecision.REQUIRES_ACTION,
    "pi_3",
    None,
    None,
    NextAction("redirect_to_url", "https://psp/3ds/pi_3", "pi_3_secret"),
)
ACTION_REQUIRED = PaymentActionRequired(
    payment_order_id=ORDER,
    merchant_id="merchant-1",
    amount="12.34",
    amount_minor=1234,
    currency="EUR",
    psp_reference="pi_3",
    next_action_type="redirect_to_url",
    redirect_url="https://psp/3ds/pi_3",
    client_secret="pi_3_secret",
)


def settle(state: Payment, result: ChargeResult) -> Sequence[DomainEvent]:
    return DECIDER.decide(RecordSettlement(result), state)


def test_a_card_asking_for_authentication_puts_the_payment_in_requires_action() -> None:
    assert when(given(), AUTHENTICATE) == [ACTION_REQUIRED]
    assert given(ACTION_REQUIRED).status == PaymentStatus.REQUIRES_ACTION
    assert "pi_3_secret" not in repr(AUTHENTICATE)  # the client secret never reaches a log through a repr


def test_an_authentication_asked_again_adds_nothing() -> None:
    assert when(given(ACTION_REQUIRED), AUTHENTICATE) == []
    assert settle(given(ACTION_REQUIRED), AUTHENTICATE) == []


def test_an_authenticated_intent_succeeds_on_the_terms_the_payment_awaited_with() -> None:
    [succeeded] = settle(given(ACTION_REQUIRED), ChargeResult(PspDecision.APPROVED, "pi_3", None))
    assert succeeded == PaymentSucceeded(**{**SUCCEEDED.data, "psp_reference": "pi_3"})
    assert given(ACTION_REQUIRED, succeeded).status == PaymentStatus.SUCCESS


def test_a_failed_or_abandoned_authentication_fails_the_payment() -> None:
    failed = ChargeResult(
        PspDecision.DECLINED, "pi_3", "authentication_abandoned: too late", "authentication_abandoned"
    )
    [event] = settle(given(ACTION_REQUIRED), failed)
    assert isinstance(event, PaymentFailed) and event.decline_code == "authentication_abandoned"
    assert settle(given(ACTION_REQUIRED, event), ChargeResult(PspDecision.APPROVED, "pi_3", None)) == []


def test_a_settlement_needs_the_awaited_intent() -> None:
    with pytest.raises(ValueError, match="awaits no authentication"):
        settle(given(), ChargeResult(PspDecision.APPROVED, "pi_3", None))
    with pytest.raises(ValueError, match="another PaymentIntent"):
        settle(given(ACTION_REQUIRED), ChargeResult(PspDecision.APPROVED, "pi_other", None))
    with pytest.raises(ValueError, match="needs its PaymentIntent"):
        when(given(), ChargeResult(PspDecision.REQUIRES_ACTION, "pi_3", None))


def test_an_action_required_keeps_its_name_and_fields() -> None:
    assert EVENTS.decode("PaymentActionRequired", ACTION_REQUIRED.data) == ACTION_REQUIRED
    assert ACTION_REQUIRED.data["status"] == "REQUIRES_ACTION"
