"""The outcome projector when an SQS batch fails part-way.

An SQS batch's records are independent (a standard queue has no order): each is applied on its own, the one
that fails is named in batchItemFailures and comes back alone after its visibility timeout, and its neighbours,
before and after it, are applied once. Here the failing record is an outcome that arrived before its order (the
order is placed later): the redelivery then records it, and a batch delivered again records nothing twice.
"""

from __future__ import annotations

from typing import Any

from initializer_testdata import valid_order

from initializer.adapters.memory_orders import InMemoryPaymentOrders
from initializer.entrypoints import api, outcome
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.ids import PaymentOrderId
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import api_event, json_body


def place(key: str) -> str:
    response = api.handler(api_event("POST", "/payments", valid_order(), {"Idempotency-Key": key}), LambdaContext())
    assert response["statusCode"] == 201
    return str(json_body(response)["payment_order_id"])


def history(store: InMemoryEventStore, order_id: str) -> list[tuple[str, str | None]]:
    return [(e.event_type, e.data.get("status")) for e in store.load(f"payment-{order_id}").events]


def row_status(orders: InMemoryPaymentOrders, order_id: str) -> Any:
    row = orders.get(order_id)
    return None if row is None else row["status"]


def test_a_batch_failing_part_way_applies_its_neighbours_once_and_the_redelivery_completes_it(
    in_memory: InMemoryEventStore, orders: InMemoryPaymentOrders
) -> None:
    first, last = place("order-a"), place("order-c")
    late = PaymentOrderId.for_idempotency_key("merchant-1", "order-b")  # its outcome comes before the order
    batch = [
        payment_status_updated(order_id=first, status="SUCCESS"),
        payment_status_updated(order_id=late, status="FAILED"),
        payment_status_updated(order_id=last, status="SUCCESS"),
    ]

    assert deliver(outcome.handler, *batch) == [1]  # only the outcome without its order
    assert (
        history(in_memory, first)
        == history(in_memory, last)
        == [("PaymentInitiated", None), ("PaymentOutcomeRecorded", "SUCCESS")]
    )
    assert history(in_memory, late) == [] and row_status(orders, late) is None

    assert place("order-b") == late  # the order arrives
    assert deliver(outcome.handler, batch[1]) == []  # the failed record, redelivered alone
    assert history(in_memory, late) == [("PaymentInitiated", None), ("PaymentOutcomeRecorded", "FAILED")]

    assert deliver(outcome.handler, *batch) == []  # the whole batch again: nothing changes
    assert deliver(outcome.handler, *reversed(batch)) == []
    for order_id, status in ((first, "SUCCESS"), (late, "FAILED"), (last, "SUCCESS")):
        assert history(in_memory, order_id) == [("PaymentInitiated", None), ("PaymentOutcomeRecorded", status)]
        assert row_status(orders, order_id) == status
