"""The initializer's use cases with the in-memory adapters: initiate a payment (once per request, a reused key
refused), read its order, record the finalizer's outcome (once; a final status never moves)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from initializer_testdata import TODAY

from initializer.adapters.memory_orders import InMemoryPaymentOrders
from initializer.app import InitializerApp
from initializer.domain.commands import BuyerInfo, CardEntry, InitiatePayment, RecordPaymentOutcome
from initializer.domain.errors import IdempotencyKeyReused, PaymentNotFound
from initializer.domain.order import EVENT_SCHEMAS, OrderStatus, PaymentPolicy
from initializer.domain.streams import payment_stream
from payments_shared.eventstore import StoredEvent, StoreUnavailable
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy
from payments_testing.cards import LocalCardVault

CARD = "4111111111111111"
POLICY = PaymentPolicy(max_amounts={"EUR": Money.parse("10000.00", "EUR")})
NO_PAUSE = RetryPolicy(attempts=3, base_delay_s=0.0, max_delay_s=0.0)


@dataclass
class Initializer:
    store: InMemoryEventStore = field(default_factory=lambda: InMemoryEventStore(schemas=EVENT_SCHEMAS))
    orders: InMemoryPaymentOrders = field(default_factory=InMemoryPaymentOrders)
    vault: LocalCardVault = field(default_factory=LocalCardVault)

    def __post_init__(self) -> None:
        self.app = InitializerApp(self.store, self.vault, self.orders, POLICY, lambda: TODAY, retry_policy=NO_PAUSE)

    def events(self, order_id: str) -> list[StoredEvent]:
        return list(self.store.load(payment_stream(order_id)).events)


@pytest.fixture
def initializer() -> Initializer:
    return Initializer()


def payment(key: str | None = "key-1", amount: str = "12.34", card: str = CARD, **changes: Any) -> InitiatePayment:
    request = InitiatePayment(
        merchant_id=MerchantId("merchant-1"),
        amount=Money.parse(amount, "EUR", allow_negative=True),
        buyer=BuyerInfo("Ada Lovelace", "ada@example.com", "GB"),
        card=CardEntry(card, 12, 2030, "Ada Lovelace"),
        idempotency_key=key,
    )
    return replace(request, **changes)


def outcome(order_id: str, status: str = "FAILED", event_id: str = "evt-1") -> tuple[RecordPaymentOutcome, Cause]:
    error = "insufficient funds" if status == "FAILED" else None
    return RecordPaymentOutcome(order_id, status, error, event_id), Cause("corr-1", event_id)


def test_a_payment_is_initiated_as_its_order_with_its_card_sealed_for_it(initializer: Initializer) -> None:
    order, created = initializer.app.initiate_payment(payment())
    assert created and order.status == OrderStatus.INITIATED and order.amount == Money(1234, "EUR")
    assert order.payment_order_id == PaymentOrderId.for_idempotency_key("merchant-1", "key-1")
    assert order.card is not None and (order.card.brand, order.card.last4, order.created_at) == ("visa", "1111", TODAY)

    [event] = initializer.events(order.payment_order_id)
    assert (event.event_type, event.version, event.correlation_id, event.causation_id) == (
        "PaymentInitiated",
        1,
        order.payment_order_id,
        None,
    )
    assert CARD not in repr(event.data)
    # The finalizer charges from the event alone: the card sealed for this order, and only for it.
    opened = initializer.vault.cipher.open(event.data["payment_details"], order.payment_order_id)
    assert opened == {"card_number": CARD, "expiry_month": 12, "expiry_year": 2030, "holder_name": "Ada Lovelace"}
    with pytest.raises(Exception):  # noqa: B017 - sealed for another order: any refusal to open
        initializer.vault.cipher.open(event.data["payment_details"], "another-order")

    row = initializer.app.get(order.payment_order_id)
    assert (row["status"], row["version"], row["amount_minor"], row["timestamp"]) == (
        "INITIATED",
        1,
        1234,
        TODAY.isoformat(),
    )
    assert row["payment_details"] == event.data["payment_details"] and row["buyer_info"]["email"] == "ada@example.com"


def test_a_payment_the_rules_refuse_is_recorded_failed_and_never_charged(initializer: Initializer) -> None:
    order, created = initializer.app.initiate_payment(payment(amount="10000.01"))
    assert created and order.status == OrderStatus.FAILED and "exceeds the limit" in (order.failure_reason or "")
    [event] = initializer.events(order.payment_order_id)
    assert event.event_type == "PaymentRejected" and "payment_details" not in event.data
    row = initializer.app.get(order.payment_order_id)
    assert (row["status"], row["failure_reason"], row["payment_details"]) == ("FAILED", order.failure_reason, None)


def test_a_retry_answers_the_first_order_and_writes_nothing(initializer: Initializer) -> None:
    first, _ = initializer.app.initiate_payment(payment())
    rows = initializer.orders.all()
    again, created = initializer.app.initiate_payment(payment())
    assert not created and again == first
    assert len(initializer.events(first.payment_order_id)) == 1 and initializer.orders.all() == rows


@pytest.mark.parametrize("changed", [{"amount": "99.99"}, {"card": "5555555555554444"}, {"card": "4000000000061111"}])
def test_a_reused_key_with_another_request_is_refused_and_writes_nothing(
    initializer: Initializer, changed: dict[str, Any]
) -> None:
    first, _ = initializer.app.initiate_payment(payment())
    rows = initializer.orders.all()
    with pytest.raises(IdempotencyKeyReused) as refused:
        initializer.app.initiate_payment(payment(**changed))
    assert refused.value.payment_order_id == first.payment_order_id
    assert len(initializer.events(first.payment_order_id)) == 1 and initializer.orders.all() == rows


def test_other_keys_or_none_initiate_other_orders(initializer: Initializer) -> None:
    ids = {initializer.app.initiate_payment(payment(key))[0].payment_order_id for key in ["a", "b", None, None]}
    assert len(ids) == 4 and len(initializer.orders.all()) == 4


def test_a_store_busy_for_a_moment_is_retried_and_one_busy_for_longer_writes_nothing(initializer: Initializer) -> None:
    initializer.store.cancel_next("ThrottlingError")
    order, created = initializer.app.initiate_payment(payment("busy-1"))
    assert created and len(initializer.events(order.payment_order_id)) == 1

    initializer.store.cancel_next(*["ThrottlingError"] * NO_PAUSE.attempts)
    with pytest.raises(StoreUnavailable):
        initializer.app.initiate_payment(payment("busy-2"))
    assert len(initializer.orders.all()) == 1
    order, created = initializer.app.initiate_payment(payment("busy-2"))  # the client's retry, same key
    assert created and len(initializer.orders.all()) == 2


def test_an_unknown_order_is_not_found(initializer: Initializer) -> None:
    with pytest.raises(PaymentNotFound):
        initializer.app.get("6f1f4d4e-2b0a-4c55-9d55-7b1c0b1e5a10")


def test_an_outcome_is_recorded_once_on_the_order_and_its_row(initializer: Initializer) -> None:
    order, _ = initializer.app.initiate_payment(payment())
    assert initializer.app.record_outcome(*outcome(order.payment_order_id, "FAILED"))
    assert not initializer.app.record_outcome(*outcome(order.payment_order_id, "FAILED"))  # duplicate delivery
    assert not initializer.app.record_outcome(*outcome(order.payment_order_id, "SUCCESS", "evt-2"))  # late flip

    initiated, recorded = initializer.events(order.payment_order_id)
    assert (recorded.event_type, recorded.version, recorded.correlation_id, recorded.causation_id) == (
        "PaymentOutcomeRecorded",
        2,
        "corr-1",
        "evt-1",
    )
    assert dict(recorded.data) == {
        "status": "FAILED",
        "error_message": "insufficient funds",
        "source_event_id": "evt-1",
        "amount_minor": None,  # the order's amount (set for a manual capture's hold and capture)
    }
    row = initializer.app.get(order.payment_order_id)
    assert (row["status"], row["failure_reason"], row["version"]) == ("FAILED", "insufficient funds", 2)
    assert row["payment_details"] == initiated.data["payment_details"]  # the rest of the row stands


def test_an_outcome_before_its_order_is_refused_and_recorded_once_the_order_exists(initializer: Initializer) -> None:
    order_id = PaymentOrderId.for_idempotency_key("merchant-1", "late")
    with pytest.raises(PaymentNotFound):
        initializer.app.record_outcome(*outcome(order_id, "SUCCESS"))
    assert initializer.events(order_id) == [] and initializer.orders.get(order_id) is None
    initializer.app.initiate_payment(payment("late"))
    assert initializer.app.record_outcome(*outcome(order_id, "SUCCESS"))
    assert initializer.app.get(order_id)["status"] == "SUCCESS"


def test_an_outcome_on_a_rejected_order_changes_nothing(initializer: Initializer) -> None:
    order, _ = initializer.app.initiate_payment(payment(amount="0.00"))
    assert not initializer.app.record_outcome(*outcome(order.payment_order_id, "SUCCESS"))
    assert [e.event_type for e in initializer.events(order.payment_order_id)] == ["PaymentRejected"]
