"""When an outcome makes an order final, the consumer emits how long the buyer waited since the order was
accepted (EMF TimeToFinalStatus, milliseconds): once per order, never for a duplicate or a non-final step."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from initializer_testdata import valid_order

from initializer.domain.order import OrderStatus, PaymentOrder
from initializer.entrypoints import api, outcome
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import api_event, json_body


def emitted(capsys: pytest.CaptureFixture[str]) -> list[float]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    values = [line["TimeToFinalStatus"] for line in lines if "TimeToFinalStatus" in line]
    return [v for value in values for v in (value if isinstance(value, list) else [value])]


def test_an_order_made_final_emits_its_wait_once(
    in_memory: InMemoryEventStore, capsys: pytest.CaptureFixture[str]
) -> None:
    placed = api.handler(api_event("POST", "/payments", valid_order(), {"Idempotency-Key": "k-1"}), LambdaContext())
    order_id = str(json_body(placed)["payment_order_id"])
    accepted = datetime.fromisoformat(str(json_body(placed)["created_at"]))
    capsys.readouterr()
    event = payment_status_updated(order_id=order_id, status="SUCCESS")

    assert deliver(outcome.handler, event) == []
    delivered = datetime.now(UTC)
    [waited] = emitted(capsys)
    assert 0 <= waited <= (delivered - accepted).total_seconds() * 1000

    assert deliver(outcome.handler, event) == []  # the same outcome again: nothing new, no second figure
    assert emitted(capsys) == []


def test_only_a_final_status_counts() -> None:
    accepted = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    order = PaymentOrder(
        payment_order_id="po-1",  # type: ignore[arg-type]
        merchant_id="m-1",  # type: ignore[arg-type]
        amount=None,  # type: ignore[arg-type]
        status=OrderStatus.SUCCESS,
        created_at=accepted,
        request_fingerprint="f",
        card=None,
    )
    later = accepted + timedelta(seconds=2.5)
    assert outcome.time_to_final_ms(order, later) == 2500
    assert outcome.time_to_final_ms(replace(order, status=OrderStatus.FAILED), later) == 2500
    assert outcome.time_to_final_ms(replace(order, status=OrderStatus.REQUIRES_ACTION), later) is None
    assert outcome.time_to_final_ms(None, later) is None


def test_the_outcome_of_a_first_charge_measures_the_wait_from_when_it_says_the_order_was_initiated(
    in_memory: InMemoryEventStore, capsys: pytest.CaptureFixture[str]
) -> None:
    placed = api.handler(api_event("POST", "/payments", valid_order(), {"Idempotency-Key": "k-2"}), LambdaContext())
    order_id = str(json_body(placed)["payment_order_id"])
    capsys.readouterr()
    initiated = datetime.now(UTC) - timedelta(seconds=90)  # recorded without reading the order: the event says
    event = payment_status_updated(order_id=order_id, status="SUCCESS", initiated_at=initiated.isoformat())
    assert deliver(outcome.handler, event) == []
    [waited] = emitted(capsys)
    assert 90_000 <= waited <= (datetime.now(UTC) - initiated).total_seconds() * 1000
    assert [e.event_type for e in in_memory.load(f"payment-{order_id}").events] == [
        "PaymentInitiated",
        "PaymentOutcomeRecorded",
    ]
