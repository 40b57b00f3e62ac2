"""The results port's contract, run on every adapter (in memory; DynamoDB on moto): the row an outcome writes
with its event is the row an operator reads in BreakingTheBank, and it is written only with the event."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from finalizer.adapters.dynamodb_results import DynamoDBPaymentResults
from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.domain.payment import PaymentFailed, PaymentSucceeded
from finalizer.domain.streams import payment_stream
from finalizer.ports import PaymentResults
from finalizer.rows import result_key, result_row
from payments_shared.eventstore import ConcurrencyConflict, EventStore, NewEvent
from payments_shared.eventstore.dynamodb import get_row
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.stores import event_store, table

DECLINED = PaymentFailed(
    payment_order_id="0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f",
    merchant_id="m-1",
    amount="10.00",
    amount_minor=1000,
    currency="EUR",
    status="FAILED",
    error_message="insufficient_funds: no",
    decline_code="insufficient_funds",
    psp_reference="pi_1",
)
T1, T2 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC), datetime(2026, 11, 25, 10, 1, tzinfo=UTC)

Row = dict[str, Any] | None


def stored_as(row: Row) -> Row:
    """A row as DynamoDB keeps it: no null attributes, numbers as numbers."""
    if row is None:
        return None
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in row.items() if v is not None}


class PaymentResultsContract:
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, PaymentResults, Callable[[str], Row]]]:
        """(the event store, the results adapter writing in its appends, a reader of the table's row by order)"""
        raise NotImplementedError

    def test_a_decided_payments_row_commits_with_its_event_only(
        self, adapter: tuple[EventStore, PaymentResults, Callable[[str], Row]]
    ) -> None:
        store, results, read = adapter
        order, stream = DECLINED.payment_order_id, payment_stream(DECLINED.payment_order_id)
        store.append(
            stream, 0, [NewEvent("PaymentFailed", DECLINED.data, "c")], [results.result_recorded(DECLINED, 1, T1)]
        )
        row = read(order)
        assert stored_as(row) == stored_as(result_row(DECLINED.data, 1, T1.isoformat()))
        assert row is not None and (row["payment_status"], row["decline_code"], row["psp_reference"]) == (
            "FAILED",
            "insufficient_funds",
            "pi_1",
        )
        late = PaymentSucceeded(**{**DECLINED.data, "status": "SUCCESS", "error_message": None})
        with pytest.raises(ConcurrencyConflict):  # a second decision for the same payment is refused whole
            store.append(
                stream, 0, [NewEvent("PaymentSucceeded", late.data, "c")], [results.result_recorded(late, 1, T2)]
            )
        assert read(order) == row


class TestInMemoryPaymentResults(PaymentResultsContract):
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, PaymentResults, Callable[[str], Row]]]:
        results = InMemoryPaymentResults("BreakingTheBank")
        yield InMemoryEventStore(), results, results.result


class TestDynamoDBPaymentResults(PaymentResultsContract):
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, PaymentResults, Callable[[str], Row]]]:
        with event_store("dynamodb", "finalizer-events", table("BreakingTheBank", "payment_order_id")) as (
            store,
            client,
        ):
            yield (
                store,
                DynamoDBPaymentResults("BreakingTheBank"),
                lambda order: get_row(client, "BreakingTheBank", result_key(order)),
            )
