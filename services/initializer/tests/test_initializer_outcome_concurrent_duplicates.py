"""The same outcome delivered to the initializer's outcome projector by several invocations at once is recorded
once, and the order's row says what its stream says.

On moto with DynamoDB's strictness (StrictTransactions): every delivery loads the order and decides before any
writes, then their transactions either overlap in flight (TransactionConflict) or come one after the other
(ConditionalCheckFailed), each forced by payments_testing.racing. A delivery whose retries run out is reported,
as the queue would redeliver it, and is redelivered here.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from initializer_testdata import valid_order

from initializer.entrypoints import api, outcome
from payments_shared.eventstore.dynamodb import get_row
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import api_event, json_body
from payments_testing.racing import at_once

DELIVERIES = 6


@pytest.fixture
def projector(racing: dict[str, Any]) -> dict[str, Any]:
    return racing


def place_order() -> str:
    response = api.handler(api_event("POST", "/payments", valid_order(), {"Idempotency-Key": "race"}), LambdaContext())
    assert response["statusCode"] == 201, response["body"]
    return str(json_body(response)["payment_order_id"])


def deliver_at_once(projector: dict[str, Any], events: list[dict[str, Any]], overlap: bool) -> list[list[int]]:
    projector["racing"].arm(projector["strict"], len(events), overlap=overlap)
    reported = at_once([partial(deliver, outcome.handler, event) for event in events])
    assert all(failed in ([], [0]) for failed in reported), reported
    for event, failed in zip(events, reported, strict=True):
        if failed:  # retries ran out: the queue's redelivery
            assert deliver(outcome.handler, event) == []
    return reported


def stream_of(projector: dict[str, Any], order_id: str) -> list[tuple[str, str | None]]:
    events = projector["store"].load(f"payment-{order_id}", use_snapshot=False).events
    return [(e.event_type, e.data.get("status")) for e in events]


@pytest.mark.parametrize(("overlap", "losers_meet"), [(True, "TransactionConflict"), (False, "ConditionalCheckFailed")])
def test_concurrent_duplicate_outcomes_are_recorded_once(
    projector: dict[str, Any], overlap: bool, losers_meet: str
) -> None:
    order_id = place_order()
    failed = payment_status_updated(order_id=order_id, status="FAILED")
    deliver_at_once(projector, [failed] * DELIVERIES, overlap)
    assert projector["racing"].first_outcomes == {"written": 1, losers_meet: DELIVERIES - 1}

    assert stream_of(projector, order_id) == [("PaymentInitiated", None), ("PaymentOutcomeRecorded", "FAILED")]
    row = get_row(projector["dynamodb"], "ShowMeTheMoney", {"payment_order_id": order_id})
    assert row is not None and (row["status"], row["failure_reason"], row["version"]) == (
        "FAILED",
        "insufficient funds",
        2,
    )


@pytest.mark.parametrize("overlap", [True, False])
def test_concurrent_contradicting_outcomes_record_one_and_the_row_agrees(
    projector: dict[str, Any], overlap: bool
) -> None:
    order_id = place_order()
    outcomes = [payment_status_updated(order_id=order_id, status=status) for status in ["SUCCESS", "FAILED"] * 3]
    deliver_at_once(projector, outcomes, overlap)

    [initiated, (recorded, status)] = stream_of(projector, order_id)
    assert initiated == ("PaymentInitiated", None) and recorded == "PaymentOutcomeRecorded"
    row = get_row(projector["dynamodb"], "ShowMeTheMoney", {"payment_order_id": order_id})
    assert row is not None and (row["status"], row["version"]) == (status, 2)  # never moved back or over
