"""Refunds through the finalizer's use cases: the in-memory event store, the real Stripe adapter on the fake PSP
(Stripe's rules for refunds, its idempotency keys pruned after 24 hours, its refund-fail card), on one clock the
test moves for both the fake and the finalizer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from fake_psp import FakePsp
from finalizer_testdata import CARDS, HANG_S, READ_TIMEOUT_S, Clock

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.adapters.sealed_cards import SealedCardOpener
from finalizer.adapters.stripe_psp import StripePsp
from finalizer.app import FinalizerApp
from finalizer.domain.payment import ChargePayment, PaymentStatus
from finalizer.domain.psp_views import RefundStatus
from finalizer.domain.refund import RefundNotRecorded, RequestRefund
from finalizer.domain.streams import refund_stream
from finalizer.money_out import PaymentNotRefundable
from finalizer.ports import PspOutcomeUnknown
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.ids import MerchantId, PaymentOrderId, RefundId
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy

PAID_AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(PAID_AT)


@pytest.fixture
def psp(clock: Clock) -> Iterator[FakePsp]:
    server = FakePsp(hang_seconds=HANG_S, clock=clock.epoch, refund_fail_after_s=None).start()
    yield server
    server.stop()


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def app(psp: FakePsp, clock: Clock, store: InMemoryEventStore) -> FinalizerApp:
    """The Stripe adapter without the SDK's own retries: one lost answer leaves the outcome unknown."""
    return FinalizerApp(
        store,
        SealedCardOpener(lambda: CARDS),
        StripePsp(lambda: psp.api_key, api_base=psp.url, read_timeout_s=READ_TIMEOUT_S, max_network_retries=0),
        clock,
        InMemoryPaymentResults(),
        retry_policy=RetryPolicy(attempts=2, base_delay_s=0.0, max_delay_s=0.0),
    )


def paid(app: FinalizerApp, payment_method: str = "pm_card_visa", amount: int = 1000) -> PaymentOrderId:
    order_id = PaymentOrderId.new()
    charge = ChargePayment(
        order_id, MerchantId("m-1"), Money(amount, "EUR"), None, "corr", "evt-pay", PAID_AT, payment_method
    )
    assert app.charge(charge).status == PaymentStatus.SUCCESS
    return order_id


def request(order_id: str, amount: int = 400, key: str = "key-1", **changes: object) -> RequestRefund:
    refund_id = RefundId.for_idempotency_key(order_id, key)
    command = RequestRefund(
        refund_id, PaymentOrderId(order_id), MerchantId("m-1"), Money(amount, "EUR"), "requested_by_customer", "c", "e"
    )
    return replace(command, requested_at=PAID_AT + timedelta(minutes=5), **changes)  # type: ignore[arg-type]


def recorded(store: InMemoryEventStore, command: RequestRefund) -> list[tuple[str, dict[str, object]]]:
    return [(e.event_type, dict(e.data)) for e in store.load(refund_stream(command.refund_id)).events]


def intent_of(psp: FakePsp, order_id: str) -> dict[str, object]:
    [intent] = psp.intents_with(payment_order_id=order_id)
    return intent


def test_a_refund_is_taken_once_and_recorded_succeeded(
    app: FinalizerApp, psp: FakePsp, store: InMemoryEventStore
) -> None:
    command = request(paid(app))
    done = app.refund(command)
    assert (done.status, done.recorded_now, done.amount_minor, done.currency) == (
        RefundStatus.SUCCEEDED,
        True,
        400,
        "EUR",
    )
    [(event_type, data)] = recorded(store, command)
    assert event_type == "RefundSucceeded" and data["status"] == "SUCCEEDED" and data["failure_reason"] is None
    refund = psp.refund(str(data["psp_reference"]))
    assert refund["metadata"] == {"refund_id": command.refund_id, "payment_order_id": command.payment_order_id}
    assert (refund["amount"], refund["reason"]) == (400, "requested_by_customer")
    assert refund["payment_intent"] == intent_of(psp, command.payment_order_id)["id"]
    assert psp.charge(str(refund["charge"]))["amount_refunded"] == 400
    again = app.refund(command)  # redelivered: the stream answers, the PSP is not asked
    assert (again.status, again.recorded_now) == (RefundStatus.SUCCEEDED, False)
    assert psp.refunds[command.refund_id] == 1 and psp.requests[command.refund_id] == 1
    assert len(recorded(store, command)) == 1


def test_a_refund_beyond_what_is_left_is_failed_with_stripes_reason(
    app: FinalizerApp, psp: FakePsp, store: InMemoryEventStore
) -> None:
    order_id = paid(app)
    app.refund(request(order_id, 600, "first"))
    beyond = request(order_id, 500, "second")
    done = app.refund(beyond)
    assert (done.status, done.recorded_now) == (RefundStatus.FAILED, True)
    [(event_type, data)] = recorded(store, beyond)
    assert event_type == "RefundFailed" and data["psp_reference"] is None
    assert data["failure_reason"] == (
        "amount_too_large: Refund amount (€5.00) is greater than unrefunded amount on charge (€4.00)"
    )
    assert psp.refunds[beyond.refund_id] == 0 and psp.requests[beyond.refund_id] == 1  # refused once, no retry


def test_a_fully_refunded_payment_fails_a_further_refund_as_already_refunded(
    app: FinalizerApp, store: InMemoryEventStore
) -> None:
    order_id = paid(app)
    assert app.refund(request(order_id, 1000, "all")).status == RefundStatus.SUCCEEDED
    more = request(order_id, 100, "more")
    assert app.refund(more).status == RefundStatus.FAILED
    assert str(recorded(store, more)[0][1]["failure_reason"]).startswith("charge_already_refunded: ")


@pytest.mark.parametrize(
    "payment",
    [
        "never-seen",  # a refund for a payment this finalizer never charged
        "declined",
        "other merchant",
        "other currency",
    ],
)
def test_a_refund_of_a_payment_not_seen_succeeding_here_is_never_asked_of_the_psp(
    app: FinalizerApp, psp: FakePsp, store: InMemoryEventStore, payment: str
) -> None:
    if payment == "never-seen":
        command = request(PaymentOrderId.new())
    elif payment == "declined":
        order_id = PaymentOrderId.new()
        charge = ChargePayment(
            order_id, MerchantId("m-1"), Money(1000, "EUR"), None, "c", "e", PAID_AT, "pm_card_chargeDeclined"
        )
        assert app.charge(charge).status == PaymentStatus.FAILED
        command = request(order_id)
    elif payment == "other merchant":
        command = request(paid(app), merchant_id=MerchantId("m-2"))
    else:
        command = replace(request(paid(app)), amount=Money(400, "GBP"))
    with pytest.raises(PaymentNotRefundable):
        app.refund(command)
    assert psp.requests[command.refund_id] == 0 and recorded(store, command) == []


def test_an_unknown_outcome_records_nothing_and_the_redelivery_refunds_once(
    app: FinalizerApp, psp: FakePsp, store: InMemoryEventStore
) -> None:
    command = request(paid(app))
    for fault in ("503", "lost"):
        psp.script(command.refund_id, [fault])
        with pytest.raises(PspOutcomeUnknown):
            app.refund(command)
        assert recorded(store, command) == []
    assert app.refund(command).status == RefundStatus.SUCCEEDED  # the "lost" refund's key replays its answer
    assert psp.refunds[command.refund_id] == 1


def lost_then_redriven(app: FinalizerApp, psp: FakePsp, clock: Clock, command: RequestRefund) -> None:
    """The first delivery reaches Stripe, which refunds; its answer is lost. The letter is redriven three days
    later, when Stripe has pruned the key."""
    psp.script(command.refund_id, ["lost"])
    with pytest.raises(PspOutcomeUnknown):
        app.refund(command)
    clock.now = PAID_AT + timedelta(days=3)


def test_a_redelivery_after_the_key_was_pruned_finds_the_refund_and_refunds_once(
    app: FinalizerApp, psp: FakePsp, clock: Clock, store: InMemoryEventStore
) -> None:
    order_id = paid(app)
    app.refund(request(order_id, 100, "an-earlier-one"))  # another refund of the payment: not the one sought
    command = request(order_id)
    lost_then_redriven(app, psp, clock, command)
    done = app.refund(command)
    assert (done.status, done.recorded_now) == (RefundStatus.SUCCEEDED, True)
    assert psp.refunds[command.refund_id] == 1
    refunded = psp.charge(str(intent_of(psp, order_id)["latest_charge"]))["amount_refunded"]
    assert refunded == 500  # 100 + 400, not 100 + 400 + 400
    [(_, data)] = recorded(store, command)
    assert psp.refund(str(data["psp_reference"]))["metadata"]["refund_id"] == command.refund_id


def test_without_the_lookup_the_pruned_key_would_refund_twice(app: FinalizerApp, psp: FakePsp, clock: Clock) -> None:
    """The hazard the lookup closes is real on the fake: a pruned key makes a second refund."""
    command = request(paid(app))
    lost_then_redriven(app, psp, clock, command)
    app.refund(replace(command, requested_at=None))  # an event that says nothing of its age
    assert psp.refunds[command.refund_id] == 2


def test_a_refund_that_fails_later_is_reversed_once_and_each_webhook_counts_once(
    app: FinalizerApp, psp: FakePsp, store: InMemoryEventStore
) -> None:
    command = request(paid(app, "pm_card_refundFail"))
    app.refund(command)
    reference = str(recorded(store, command)[0][1]["psp_reference"])
    # Still succeeded at Stripe (a charge.refund.updated for another change): nothing to record.
    assert app.record_refund_failure(reference, Cause("c"), once="evt-0") is not None
    assert [t for t, _ in recorded(store, command)] == ["RefundSucceeded"]
    psp.fail_refund(reference)
    reversed_ = app.record_refund_failure(reference, Cause("c", "evt-1"), once="evt-1")
    assert reversed_ is not None and (reversed_.status, reversed_.recorded_now) == (RefundStatus.REVERSED, True)
    assert app.record_refund_failure(reference, Cause("c", "evt-1"), once="evt-1") is None  # the same webhook
    other = app.record_refund_failure(reference, Cause("c", "evt-2"), once="evt-2")  # charge.refund.updated
    assert other is not None and (other.status, other.recorded_now) == (RefundStatus.REVERSED, False)
    events = recorded(store, command)
    assert [t for t, _ in events] == ["RefundSucceeded", "RefundReversed"]
    assert events[1][1]["status"] == "REVERSED" and events[1][1]["failure_reason"] == "expired_or_canceled_card"
    assert events[1][1]["amount"] == "4.00" and events[1][1]["refund_id"] == command.refund_id


def test_a_refund_that_is_not_ours_records_nothing(app: FinalizerApp, psp: FakePsp, store: InMemoryEventStore) -> None:
    order_id = paid(app, "pm_card_refundFail")
    client = stripe.StripeClient(psp.api_key, base_addresses={"api": psp.url})
    theirs = client.v1.refunds.create(params={"payment_intent": str(intent_of(psp, order_id)["id"]), "amount": 100})
    psp.fail_refund(theirs.id)  # made from the Dashboard, say: no refund id of ours in its metadata
    appended: list[object] = []
    store.subscribe(appended.append)
    assert app.record_refund_failure(theirs.id, Cause("c"), once="evt-x") is None
    assert appended == []


def test_a_failure_of_ours_before_its_answer_is_recorded_waits_for_a_retry(
    app: FinalizerApp, psp: FakePsp, store: InMemoryEventStore
) -> None:
    command = request(paid(app, "pm_card_refundFail"))
    metadata = {"refund_id": command.refund_id, "payment_order_id": command.payment_order_id}
    intent = str(intent_of(psp, command.payment_order_id)["id"])
    refund = stripe.StripeClient(psp.api_key, base_addresses={"api": psp.url}).v1.refunds.create(
        params={"payment_intent": intent, "amount": 400, "metadata": metadata}  # type: ignore[arg-type]
    )  # the request reached Stripe; its delivery has not recorded the answer yet
    psp.fail_refund(refund.id)
    with pytest.raises(RefundNotRecorded):
        app.record_refund_failure(refund.id, Cause("c"), once="evt-early")
    assert recorded(store, command) == []
