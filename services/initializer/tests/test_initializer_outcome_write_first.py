"""The outcome of a first charge is recorded before the order is read: one guarded write on the common path, and
for any deliveries — duplicates, reorderings, an outcome before its order, after 3-D Secure, on a manual or a
rejected order — exactly what reading first records (the same events, the same row), with no more effect.

The reference is the same use case with every outcome's first-charge facts left out: it reads first, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from initializer_testdata import TODAY

from initializer.adapters.memory_orders import InMemoryPaymentOrders
from initializer.app import InitializerApp, OutcomeMessage
from initializer.domain.commands import (
    BuyerInfo,
    FirstCharge,
    InitiatePayment,
    RecordPaymentAction,
    RecordPaymentOutcome,
)
from initializer.domain.errors import PaymentNotFound
from initializer.domain.order import EVENT_SCHEMAS, OrderStatus, PaymentOrder, PaymentPolicy
from initializer.domain.streams import payment_stream
from payments_shared.events import TraceContext
from payments_shared.eventstore import StreamSlice
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy
from payments_testing.cards import LocalCardVault

POLICY = PaymentPolicy(max_amounts={"EUR": Money.parse("100.00", "EUR")})
NO_PAUSE = RetryPolicy(attempts=3, base_delay_s=0.0, max_delay_s=0.0)
MERCHANT = MerchantId("merchant-1")
AMOUNT = Money(1234, "EUR")
ORDER = PaymentOrderId.for_idempotency_key(MERCHANT, "k-1")
FIRST = FirstCharge(MERCHANT, AMOUNT, TODAY - timedelta(seconds=3))


class CountingLoads(InMemoryEventStore):
    """The in-memory store, counting its reads."""

    loads = 0

    def load(
        self, stream_id: str, *, use_snapshot: bool = True, snapshotted: bool = False, trust_snapshot: bool = False
    ) -> StreamSlice:
        self.loads += 1
        trusted = trust_snapshot
        return super().load(stream_id, use_snapshot=use_snapshot, snapshotted=snapshotted, trust_snapshot=trusted)


@dataclass
class Projector:
    store: CountingLoads = field(default_factory=lambda: CountingLoads(schemas=EVENT_SCHEMAS))
    orders: InMemoryPaymentOrders = field(default_factory=InMemoryPaymentOrders)

    def __post_init__(self) -> None:
        self.app = InitializerApp(self.store, LocalCardVault(), self.orders, POLICY, lambda: TODAY, NO_PAUSE)

    def place(self, capture_method: str = "automatic", amount: Money = AMOUNT) -> None:
        buyer = BuyerInfo("Ada Lovelace", "ada@example.com", "GB")
        request = InitiatePayment(
            MERCHANT, amount, buyer, None, "k-1", payment_method="pm_card_visa", capture_method=capture_method
        )
        self.app.initiate_payment(request)

    def record(self, command: RecordPaymentOutcome | RecordPaymentAction) -> str:
        try:
            recorded = self.app.record_outcome(command, Cause(ORDER, command.source_event_id))
        except PaymentNotFound:
            return "not found"  # the queue redelivers it
        return "nothing new" if recorded is None else recorded.status.value

    def recorded(self) -> list[tuple[str, dict[str, object]]]:
        return [(e.event_type, dict(e.data)) for e in self.store.load(payment_stream(ORDER)).events]


def success(event_id: str = "evt-s", first: FirstCharge | None = FIRST) -> RecordPaymentOutcome:
    return RecordPaymentOutcome(ORDER, "SUCCESS", None, event_id, AMOUNT.minor, first)


def failed(event_id: str = "evt-f", first: FirstCharge | None = FIRST) -> RecordPaymentOutcome:
    return RecordPaymentOutcome(ORDER, "FAILED", "insufficient funds", event_id, AMOUNT.minor, first)


def action(event_id: str = "evt-a") -> RecordPaymentAction:
    return RecordPaymentAction(ORDER, "redirect_to_url", "https://stripe.example/3ds", "pi_secret", event_id)


def test_given_a_new_order_when_its_first_charge_succeeds_then_the_outcome_is_one_write_without_a_read() -> None:
    projector = Projector()
    projector.place()
    projector.store.loads = 0
    assert projector.record(success()) == "SUCCESS"
    assert projector.store.loads == 0
    assert [t for t, _ in projector.recorded()] == ["PaymentInitiated", "PaymentOutcomeRecorded"]
    row = projector.orders.get(ORDER)
    assert row is not None and (row["status"], row["version"], row["failure_reason"]) == ("SUCCESS", 2, None)


def test_the_order_recorded_unread_says_when_it_was_initiated_for_the_time_to_final_status() -> None:
    projector = Projector()
    projector.place()
    recorded = projector.app.record_outcome(success(), Cause(ORDER, "evt-s"))
    assert recorded is not None and recorded.status == OrderStatus.SUCCESS and recorded.created_at == FIRST.initiated_at


def test_given_the_outcome_recorded_when_it_comes_again_then_its_write_is_refused_and_the_read_finds_it_done() -> None:
    projector = Projector()
    projector.place()
    projector.record(success())
    projector.store.loads = 0
    assert projector.record(success()) == "nothing new"
    assert projector.record(failed()) == "nothing new"  # a contradicting late outcome: the first stands
    assert projector.store.loads == 2  # one read after each refused write
    assert [t for t, _ in projector.recorded()] == ["PaymentInitiated", "PaymentOutcomeRecorded"]


def test_given_no_order_yet_when_its_outcome_comes_then_it_is_refused_for_redelivery_and_recorded_after() -> None:
    projector = Projector()
    assert projector.record(success()) == "not found"
    projector.place()
    assert projector.record(success()) == "SUCCESS"


def test_given_3ds_recorded_first_when_the_outcome_comes_then_it_is_read_and_recorded_after_the_action() -> None:
    projector = Projector()
    projector.place()
    projector.record(action())
    assert projector.record(success()) == "SUCCESS"
    recorded = [t for t, _ in projector.recorded()]
    assert recorded == ["PaymentInitiated", "PaymentActionRecorded", "PaymentOutcomeRecorded"]
    row = projector.orders.get(ORDER)
    assert row is not None and (row["status"], row["next_action"], row["version"]) == ("SUCCESS", None, 3)


def test_given_a_rejected_order_when_an_outcome_comes_then_the_guard_refuses_the_presumption_and_nothing_moves() -> (
    None
):
    projector = Projector()
    projector.place(amount=Money(200_00, "EUR"))  # over the limit: PaymentRejected, FAILED
    assert projector.record(success()) == "nothing new"
    row = projector.orders.get(ORDER)
    assert row is not None and (row["status"], row["version"]) == ("FAILED", 1)


def test_given_a_manual_capture_when_an_outcome_presumes_automatic_then_it_is_read_and_keeps_the_amount() -> None:
    projector = Projector()
    projector.place(capture_method="manual")
    assert projector.record(failed()) == "FAILED"
    [(_, outcome)] = [(t, d) for t, d in projector.recorded() if t == "PaymentOutcomeRecorded"]
    assert outcome["amount_minor"] == AMOUNT.minor  # decided on the order read (manual), not on the presumption


Delivery = tuple[str, str]  # (kind, event id)
KINDS = ("place", "success", "failed", "action", "success-late", "failed-late")


def command_of(kind: str, event_id: str, first: bool) -> RecordPaymentOutcome | RecordPaymentAction:
    facts = FIRST if first else None
    if kind == "action":
        return action(event_id)
    if kind.startswith("success"):
        return success(event_id, facts if kind == "success" else None)
    return failed(event_id, facts if kind == "failed" else None)


@settings(max_examples=150, deadline=None)
@given(
    capture=st.sampled_from(["automatic", "manual", "rejected"]),
    deliveries=st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(["e1", "e2", "e3"])), min_size=1, max_size=8),
)
def test_for_any_deliveries_writing_first_records_exactly_what_reading_first_does(
    capture: str, deliveries: list[Delivery]
) -> None:
    """Any order of deliveries, duplicates (the same event id again) and placings (a retried POST), the order
    placed at any point or never: every step answers the consumer the same and leaves the same stream and row."""
    write_first, read_first = Projector(), Projector()
    amount = Money(200_00, "EUR") if capture == "rejected" else AMOUNT
    for kind, event_id in deliveries:
        if kind == "place":
            for projector in (write_first, read_first):
                projector.place("manual" if capture == "manual" else "automatic", amount)
            continue
        answers = [
            projector.record(command_of(kind, f"{kind}-{event_id}", first))
            for projector, first in ((write_first, True), (read_first, False))
        ]
        assert answers[0] == answers[1]  # the same answer to the consumer (and so the same redelivery)
        assert write_first.recorded() == read_first.recorded()
        assert write_first.orders.get(ORDER) == read_first.orders.get(ORDER)
    outcomes = [t for t, _ in write_first.recorded() if t == "PaymentOutcomeRecorded"]
    assert len(outcomes) <= 1  # a final status never moves, whatever came twice or out of order


def test_a_passing_refusal_of_the_unread_write_is_retried_unread() -> None:
    projector = Projector()
    projector.place()
    projector.store.loads = 0
    projector.store.cancel_next("TransactionConflict")
    assert projector.record(replace(success(), source_event_id="evt-r")) == "SUCCESS"
    assert projector.store.loads == 0


# Batches: a queue batch's outcomes recorded together (record_outcomes: the first charges' in one write) give, record
# for record, what reading first one at a time gives: the same answers, events and rows, for batches of several
# orders with duplicates and out-of-order records, two records of one order going in the batch's order.
KEYS = ("k-1", "k-2", "k-3")


def order_of(key: str) -> PaymentOrderId:
    return PaymentOrderId.for_idempotency_key(MERCHANT, key)


def command_for(kind: str, key: str, event_id: str, first: bool) -> RecordPaymentOutcome | RecordPaymentAction:
    return replace(command_of(kind, event_id, first), payment_order_id=order_of(key))


@dataclass
class Orders:
    """Several orders' projector."""

    store: CountingLoads = field(default_factory=lambda: CountingLoads(schemas=EVENT_SCHEMAS))
    orders: InMemoryPaymentOrders = field(default_factory=InMemoryPaymentOrders)

    def __post_init__(self) -> None:
        self.app = InitializerApp(self.store, LocalCardVault(), self.orders, POLICY, lambda: TODAY, NO_PAUSE)

    def place(self, key: str, capture_method: str, amount: Money) -> None:
        buyer = BuyerInfo("Ada Lovelace", "ada@example.com", "GB")
        request = InitiatePayment(
            MERCHANT, amount, buyer, None, key, payment_method="pm_card_visa", capture_method=capture_method
        )
        self.app.initiate_payment(request)

    def record_alone(self, command: RecordPaymentOutcome | RecordPaymentAction) -> str:
        try:
            recorded = self.app.record_outcome(command, Cause(command.payment_order_id, command.source_event_id))
        except Exception as error:  # noqa: BLE001 - the answer the consumer gets
            return answer_of(error)
        return answer_of(recorded)

    def record_batch(self, commands: list[RecordPaymentOutcome | RecordPaymentAction]) -> list[str]:
        messages = [
            OutcomeMessage(c, Cause(c.payment_order_id, c.source_event_id), TraceContext(), lambda work: work())
            for c in commands
        ]
        return [answer_of(outcome) for outcome in self.app.record_outcomes(messages)]

    def recorded(self, key: str) -> list[tuple[str, dict[str, object]]]:
        return [(e.event_type, dict(e.data)) for e in self.store.load(payment_stream(order_of(key))).events]


def answer_of(outcome: PaymentOrder | Exception | None) -> str:
    if isinstance(outcome, PaymentNotFound):
        return "not found"  # the queue redelivers it
    if isinstance(outcome, Exception):
        return type(outcome).__name__
    return "nothing new" if outcome is None else outcome.status.value


OUTCOME_KINDS = KINDS[1:]
BATCH = st.lists(
    st.tuples(st.sampled_from(OUTCOME_KINDS), st.sampled_from(KEYS), st.sampled_from(["e1", "e2"])),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    captures=st.fixed_dictionaries({key: st.sampled_from(["automatic", "manual", "rejected"]) for key in KEYS}),
    steps=st.lists(st.one_of(st.tuples(st.just("place"), st.sampled_from(KEYS)), BATCH), min_size=1, max_size=6),
)
def test_for_any_batches_recording_them_together_records_what_reading_first_one_at_a_time_does(
    captures: dict[str, str], steps: list[tuple[str, str] | list[tuple[str, str, str]]]
) -> None:
    together, one_at_a_time = Orders(), Orders()
    for step in steps:
        if isinstance(step, tuple):  # an order placed (or its POST retried)
            _, key = step
            capture = "manual" if captures[key] == "manual" else "automatic"
            amount = Money(200_00, "EUR") if captures[key] == "rejected" else AMOUNT
            for orders in (together, one_at_a_time):
                orders.place(key, capture, amount)
            continue
        batched = together.record_batch([command_for(kind, key, f"{kind}-{e}", True) for kind, key, e in step])
        alone = [one_at_a_time.record_alone(command_for(kind, key, f"{kind}-{e}", False)) for kind, key, e in step]
        assert batched == alone  # the same answer per record (and so the same redelivery)
        for key in KEYS:
            assert together.recorded(key) == one_at_a_time.recorded(key)
            assert together.orders.get(order_of(key)) == one_at_a_time.orders.get(order_of(key))
    for key in KEYS:
        assert len([t for t, _ in together.recorded(key) if t == "PaymentOutcomeRecorded"]) <= 1


def test_a_batch_of_first_charges_outcomes_is_one_write_without_a_read_and_a_refused_one_is_read_after() -> None:
    orders = Orders()
    for key in KEYS:
        orders.place(key, "automatic", AMOUNT)
    orders.store.loads = 0
    writes: list[int] = []
    real = orders.store.append_many

    def counted(appends: Any) -> Any:
        writes.append(len(appends))
        return real(appends)

    orders.store.append_many = counted  # type: ignore[method-assign]
    first = [command_for("success", key, "evt-1", True) for key in KEYS[:2]]
    assert orders.record_batch(first) == ["SUCCESS", "SUCCESS"]
    assert (writes, orders.store.loads) == ([2], 0)
    writes.clear()
    again = [command_for("success", key, "evt-1", True) for key in KEYS]  # k-1 and k-2 again, k-3 new
    assert orders.record_batch(again) == ["nothing new", "nothing new", "SUCCESS"]
    # Refused at k-1's and k-2's guards, k-3 written without them, then the refused two read (nothing new).
    assert (writes, orders.store.loads) == ([3, 1], 2)
