"""The results port's contract, run on both event stores (in memory, DynamoDB on moto): the row an outcome
writes with its event is the row an operator reads in BreakingTheBank, and it is written only with the event."""

from __future__ import annotations

import pytest

from finalizer.read_model import ResultRows
from payments_shared.eventstore import ConcurrencyConflict, NewEvent
from payments_shared.eventstore.dynamodb import get_row
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.stores import ADAPTERS, event_store, table

DECLINED = {
    "payment_order_id": "0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f",
    "merchant_id": "m-1",
    "amount": "10.00",
    "amount_minor": 1000,
    "currency": "EUR",
    "status": "FAILED",
    "error_message": "insufficient_funds: no",
    "decline_code": "insufficient_funds",
    "psp_reference": "pi_1",
}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_decided_payments_row_commits_with_its_event_only(adapter: str) -> None:
    with event_store(adapter, "finalizer-events", table("BreakingTheBank", "payment_order_id")) as (store, client):
        results, key = ResultRows("BreakingTheBank"), {"payment_order_id": DECLINED["payment_order_id"]}

        def read() -> dict[str, object] | None:
            if isinstance(store, InMemoryEventStore):
                return store.get_record("BreakingTheBank", key)
            return get_row(client, "BreakingTheBank", key)

        stream = f"payment-{DECLINED['payment_order_id']}"
        store.append(stream, 0, [NewEvent("PaymentFailed", DECLINED, "c")], [results.decided(DECLINED, 1, "t1")])
        row = read()
        assert row is not None
        assert (row["payment_status"], row["decline_code"], row["psp_reference"], int(str(row["version"]))) == (
            "FAILED",
            "insufficient_funds",
            "pi_1",
            1,
        )
        late = {**DECLINED, "status": "SUCCESS", "error_message": None}
        with pytest.raises(ConcurrencyConflict):  # a second decision for the same payment is refused whole
            store.append(stream, 0, [NewEvent("PaymentSucceeded", late, "c")], [results.decided(late, 1, "t2")])
        assert read() == row
