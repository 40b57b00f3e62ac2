"""The finalizer's use case on in-memory adapters: the event store, the results rows, a PSP that answers one
idempotency key once (as Stripe does) and a card opener, both fakes of the ports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.app import CHARGE_BEFORE_READING_WITHIN, Finalized, FinalizerApp
from finalizer.domain.payment import (
    CardDetails,
    ChargePayment,
    ChargeResult,
    PaymentSource,
    PaymentStatus,
    PspDecision,
)
from finalizer.domain.psp_views import DisputeView, PspPayoutView, RefundAnswer, RefundStatus
from finalizer.domain.refund import RequestRefund
from finalizer.domain.streams import payment_stream, refund_stream
from finalizer.money_out import RefundRecorded
from finalizer.ports import PspOutcomeUnknown, PspRequestRefused
from finalizer.rows import result_row
from payments_shared.eventstore import StoreUnavailable, StreamSlice
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.ids import MerchantId, PaymentOrderId, RefundId
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy

APPROVED_CARD, DECLINED_CARD = "4242424242424242", "4000000000009995"
NOW = datetime(2026, 11, 25, 10, 0, 5, tzinfo=UTC)
QUICK = RetryPolicy(attempts=3, base_delay_s=0.0, max_delay_s=0.0)


class CardSealedForAnotherOrder(Exception):
    pass


@dataclass
class FakeCards:
    """Seals as the initializer does (for one order); opens only for that order."""

    sealed: dict[str, tuple[str, CardDetails]] = field(default_factory=dict)
    opened: int = 0

    def seal(self, number: str, payment_order_id: str) -> str:
        token = f"sealed-{len(self.sealed)}"
        self.sealed[token] = (payment_order_id, CardDetails(number, 12, 2031, "Ada Lovelace"))
        return token

    def open(self, sealed: str, payment_order_id: str) -> CardDetails:
        order, card = self.sealed[sealed]
        if order != payment_order_id:
            raise CardSealedForAnotherOrder(payment_order_id)
        self.opened += 1
        return card


@dataclass
class FakePsp:
    """Answers by card; like Stripe, a key seen before gets its first answer again, without a second charge.

    faults: errors to raise on the next requests (before the PSP decides anything).
    during_charge: called inside a request, after the PSP decided (another delivery racing this one).
    """

    requests: Counter[str] = field(default_factory=Counter)
    finds: Counter[str] = field(default_factory=Counter)
    charges: Counter[str] = field(default_factory=Counter)
    answers: dict[str, ChargeResult] = field(default_factory=dict)
    refunds: dict[str, RefundAnswer] = field(default_factory=dict)  # by idempotency key
    faults: list[Exception] = field(default_factory=list)
    during_charge: Callable[[], object] | None = None

    def find(self, idempotency_key: str) -> ChargeResult | None:
        self.finds[idempotency_key] += 1
        return self.answers.get(idempotency_key)

    def charge(
        self,
        idempotency_key: str,
        amount: Money,
        merchant_id: str,
        card: PaymentSource,
        return_url: str | None = None,
        capture_method: str = "automatic",
    ) -> ChargeResult:
        self.requests[idempotency_key] += 1
        if self.faults:
            raise self.faults.pop(0)
        if idempotency_key not in self.answers:
            if isinstance(card, CardDetails) and card.number == DECLINED_CARD:
                answer = ChargeResult(
                    PspDecision.DECLINED, f"pi_{len(self.answers)}", "insufficient_funds: no", "insufficient_funds"
                )
            else:
                answer = ChargeResult(PspDecision.APPROVED, f"pi_{len(self.answers)}", None)
                self.charges[idempotency_key] += 1
            self.answers[idempotency_key] = answer
        if self.during_charge is not None:
            racing, self.during_charge = self.during_charge, None
            racing()
        return self.answers[idempotency_key]

    def retrieve(self, reference: str) -> ChargeResult:  # no card here asks for 3-D Secure
        raise AssertionError(f"{reference}: nothing awaits authentication")

    def cancel(
        self, reference: str, reason: str | None = "abandoned", idempotency_key: str | None = None
    ) -> ChargeResult:
        return self.retrieve(reference)

    def capture(self, reference: str, amount: Money, idempotency_key: str) -> ChargeResult:
        raise AssertionError(f"{reference}: no manual capture here")

    def refund(
        self, idempotency_key: str, payment_intent: str, amount: Money, reason: str | None, metadata: dict[str, str]
    ) -> RefundAnswer:
        self.requests[idempotency_key] += 1
        if self.faults:
            raise self.faults.pop(0)
        taken = RefundAnswer(RefundStatus.SUCCEEDED, f"re_{len(self.refunds)}", None, metadata["refund_id"])
        answer = self.refunds.setdefault(idempotency_key, taken)
        if self.during_charge is not None:
            racing, self.during_charge = self.during_charge, None
            racing()
        return answer

    def retrieve_refund(self, reference: str) -> RefundAnswer:
        return next(answer for answer in self.refunds.values() if answer.psp_reference == reference)

    def find_refund(self, payment_intent: str, refund_id: str) -> RefundAnswer | None:
        self.finds[refund_id] += 1
        return self.refunds.get(refund_id)

    def retrieve_dispute(self, reference: str) -> DisputeView | None:
        return None  # no dispute here: the dispute use case is tested on the fake PSP

    def retrieve_payout(self, payout_id: str) -> PspPayoutView | None:
        return None  # no payout here: the PSP payout use case is tested on the fake PSP


@dataclass
class Finalizer:
    app: FinalizerApp
    store: InMemoryEventStore
    results: InMemoryPaymentResults
    psp: FakePsp
    cards: FakeCards

    def command(self, card: str = APPROVED_CARD, order: str | None = None) -> ChargePayment:
        """What the entry point makes of a PaymentInitiated event."""
        order_id = PaymentOrderId(order or PaymentOrderId.new())
        sealed = self.cards.seal(card, order_id)
        return ChargePayment(order_id, MerchantId("merchant-1"), Money(1234, "EUR"), sealed, order_id, "evt-1")

    def refund_of(self, command: ChargePayment) -> RequestRefund:
        """What the entry point makes of a RefundRequested event for that payment."""
        refund_id = RefundId.for_idempotency_key(command.payment_order_id, "key-1")
        return RequestRefund(
            refund_id, command.payment_order_id, command.merchant_id, Money(500, "EUR"), None, "corr", "evt-r"
        )

    def refund_events(self, command: RequestRefund) -> list[tuple[str, str]]:
        return [(e.event_type, e.data["status"]) for e in self.store.load(refund_stream(command.refund_id)).events]

    def events(self, command: ChargePayment) -> list[tuple[str, str]]:
        return [
            (e.event_type, e.data["status"]) for e in self.store.load(payment_stream(command.payment_order_id)).events
        ]


def finalizer(store: InMemoryEventStore | None = None, psp: FakePsp | None = None) -> Finalizer:
    store, psp, cards, results = store or InMemoryEventStore(), psp or FakePsp(), FakeCards(), InMemoryPaymentResults()
    app = FinalizerApp(store, cards, psp, lambda: NOW, results, retry_policy=QUICK)
    return Finalizer(app, store, results, psp, cards)


@pytest.fixture
def world() -> Finalizer:
    return finalizer()


def test_an_approved_charge_records_success_and_its_results_row(world: Finalizer) -> None:
    command = world.command()
    done = world.app.charge(command)
    assert (done.payment_order_id, done.status, done.charged_now) == (command.payment_order_id, "SUCCESS", True)
    assert (done.amount_minor, done.currency) == (1234, "EUR") and done.psp_latency_ms is not None
    [stored] = world.store.load(payment_stream(command.payment_order_id)).events
    assert (stored.event_type, stored.version, stored.correlation_id, stored.causation_id) == (
        "PaymentSucceeded",
        1,
        command.payment_order_id,
        "evt-1",
    )
    assert world.results.result(command.payment_order_id) == result_row(stored.data, 1, NOW.isoformat())
    assert world.psp.charges[command.payment_order_id] == 1 and world.cards.opened == 1


def test_a_declined_charge_records_failure_with_the_decline(world: Finalizer) -> None:
    command = world.command(DECLINED_CARD)
    assert world.app.charge(command).status == PaymentStatus.FAILED
    assert world.events(command) == [("PaymentFailed", "FAILED")]
    row = world.results.result(command.payment_order_id)
    assert row is not None and (row["payment_status"], row["decline_code"]) == ("FAILED", "insufficient_funds")
    assert world.psp.charges[command.payment_order_id] == 0


@pytest.mark.parametrize("card", [APPROVED_CARD, DECLINED_CARD])
def test_a_decided_payment_is_answered_from_its_stream_without_asking_the_psp(world: Finalizer, card: str) -> None:
    command = world.command(card)
    first = world.app.charge(command)
    again = [world.app.charge(command) for _ in range(3)]
    assert again == [Finalized(first.payment_order_id, first.status, charged_now=False)] * 3
    assert world.psp.requests[command.payment_order_id] == 1 and world.cards.opened == 1
    assert len(world.events(command)) == 1 and len(world.results.all()) == 1


class CountingLoads(InMemoryEventStore):
    """The in-memory store, counting its reads (a first delivery's charge makes none)."""

    loads = 0

    def load(
        self, stream_id: str, *, use_snapshot: bool = True, snapshotted: bool = False, trust_snapshot: bool = False
    ) -> StreamSlice:
        self.loads += 1
        trusted = trust_snapshot
        return super().load(stream_id, use_snapshot=use_snapshot, snapshotted=snapshotted, trust_snapshot=trusted)


def test_a_first_delivery_charges_and_records_without_reading_its_stream() -> None:
    world = finalizer(CountingLoads())
    command = replace(world.command(), initiated_at=NOW - timedelta(seconds=2))
    assert world.app.charge(command).charged_now
    assert isinstance(world.store, CountingLoads) and world.store.loads == 0  # one conditional write, no read
    assert world.events(command) == [("PaymentSucceeded", "SUCCESS")]


def test_a_young_duplicate_finds_the_decision_when_its_write_is_refused_and_charges_nothing_more() -> None:
    world = finalizer(CountingLoads())
    command = replace(world.command(), initiated_at=NOW - timedelta(seconds=2))
    first = world.app.charge(command)
    again = world.app.charge(command)  # a duplicate publish, seconds later
    assert again == Finalized(first.payment_order_id, first.status, charged_now=False)
    # The PSP answered its key again with the first answer: one charge. The refused write then read the stream.
    assert world.psp.requests[command.payment_order_id] == 2 and world.psp.charges[command.payment_order_id] == 1
    assert isinstance(world.store, CountingLoads) and world.store.loads == 1
    assert world.events(command) == [("PaymentSucceeded", "SUCCESS")] and len(world.results.all()) == 1


@pytest.mark.parametrize("age", [CHARGE_BEFORE_READING_WITHIN, timedelta(hours=2)])
def test_a_late_delivery_reads_its_stream_first_and_stops_at_the_decision(world: Finalizer, age: timedelta) -> None:
    command = replace(world.command(), initiated_at=NOW - age)
    first = world.app.charge(command)
    assert world.app.charge(command) == Finalized(first.payment_order_id, first.status, charged_now=False)
    assert world.psp.requests[command.payment_order_id] == 1  # the retry, redrive or replay never asked the PSP


def test_a_delivery_racing_another_records_nothing_and_answers_with_the_winners_decision(world: Finalizer) -> None:
    command = world.command()
    winner: list[Finalized] = []
    world.psp.during_charge = lambda: winner.append(world.app.charge(command))  # records while we wait on the PSP
    lost = world.app.charge(command)
    assert winner[0].charged_now and (lost.status, lost.charged_now) == (PaymentStatus.SUCCESS, False)
    assert world.psp.requests[command.payment_order_id] == 2 and world.psp.charges[command.payment_order_id] == 1
    assert world.events(command) == [("PaymentSucceeded", "SUCCESS")] and len(world.results.all()) == 1


def test_on_a_lost_race_the_stored_decision_wins_over_a_different_answer(world: Finalizer) -> None:
    command = world.command()
    # Another delivery that got a decline (another PSP answer) records first, while ours is approved.
    declining = finalizer(world.store, FakePsp())
    declined = replace(command, payment_details=declining.cards.seal(DECLINED_CARD, command.payment_order_id))
    world.psp.during_charge = lambda: declining.app.charge(declined)
    lost = world.app.charge(command)
    assert (lost.status, lost.charged_now) == (PaymentStatus.FAILED, False)
    assert world.events(command) == [("PaymentFailed", "FAILED")] and world.results.all() == []


def test_passing_refusals_of_the_record_are_retried(world: Finalizer) -> None:
    command = world.command()
    world.store.cancel_next("TransactionConflict", "ThrottlingError")
    assert world.app.charge(command).charged_now
    assert world.events(command) == [("PaymentSucceeded", "SUCCESS")] and len(world.results.all()) == 1
    assert world.psp.requests[command.payment_order_id] == 1


def test_when_the_record_keeps_being_refused_the_redelivery_gets_the_psps_first_answer(world: Finalizer) -> None:
    command = world.command()
    world.store.cancel_next(*["ThrottlingError"] * QUICK.attempts)
    with pytest.raises(StoreUnavailable):
        world.app.charge(command)
    assert world.events(command) == [] and world.results.all() == []
    assert world.app.charge(command).charged_now  # the queue's redelivery
    assert world.psp.requests[command.payment_order_id] == 2 and world.psp.charges[command.payment_order_id] == 1
    assert world.events(command) == [("PaymentSucceeded", "SUCCESS")]


@pytest.mark.parametrize("fault", [PspOutcomeUnknown("timeout"), PspRequestRefused("bad key")])
def test_a_psp_error_records_nothing_and_the_redelivery_charges_once(world: Finalizer, fault: Exception) -> None:
    command = world.command()
    world.psp.faults.append(fault)
    with pytest.raises(type(fault)):
        world.app.charge(command)
    assert world.events(command) == [] and world.results.all() == []
    assert world.app.charge(command).charged_now
    assert world.psp.charges[command.payment_order_id] == 1 and world.events(command) == [
        ("PaymentSucceeded", "SUCCESS")
    ]


def test_details_sealed_for_another_order_are_never_charged(world: Finalizer) -> None:
    command = world.command()
    other = world.command()
    with pytest.raises(CardSealedForAnotherOrder):
        world.app.charge(replace(command, payment_details=other.payment_details))
    assert sum(world.psp.requests.values()) == 0 and world.events(command) == [] and world.results.all() == []


def test_a_refund_delivery_racing_another_records_nothing_and_answers_with_the_winners(world: Finalizer) -> None:
    payment = world.command()
    world.app.charge(payment)
    command = world.refund_of(payment)
    winner: list[RefundRecorded] = []
    world.psp.during_charge = lambda: winner.append(world.app.refund(command))  # records while we wait on the PSP
    lost = world.app.refund(command)
    assert winner[0].recorded_now and (lost.status, lost.recorded_now) == (RefundStatus.SUCCEEDED, False)
    assert world.psp.requests[command.refund_id] == 2 and len(world.psp.refunds) == 1
    assert world.refund_events(command) == [("RefundSucceeded", "SUCCEEDED")]


def test_when_a_refunds_record_keeps_being_refused_the_redelivery_gets_the_psps_first_answer(world: Finalizer) -> None:
    payment = world.command()
    world.app.charge(payment)
    command = world.refund_of(payment)
    world.store.cancel_next(*["ThrottlingError"] * QUICK.attempts)
    with pytest.raises(StoreUnavailable):
        world.app.refund(command)
    assert world.refund_events(command) == []
    assert world.app.refund(command).recorded_now  # the queue's redelivery
    assert world.psp.requests[command.refund_id] == 2 and len(world.psp.refunds) == 1
    assert world.refund_events(command) == [("RefundSucceeded", "SUCCEEDED")]


def test_a_young_refund_request_is_not_looked_up(world: Finalizer) -> None:
    payment = world.command()
    world.app.charge(payment)
    command = replace(world.refund_of(payment), requested_at=NOW - timedelta(hours=22))
    world.app.refund(command)
    assert world.psp.finds[command.refund_id] == 0
    older = replace(world.refund_of(payment), refund_id=RefundId.for_idempotency_key(payment.payment_order_id, "k2"))
    world.app.refund(replace(older, requested_at=NOW - timedelta(hours=23)))
    assert world.psp.finds[older.refund_id] == 1
