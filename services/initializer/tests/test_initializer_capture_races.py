"""Captures and cancels of one authorization racing through the real HTTP entry point: exactly one wins.

On moto with DynamoDB's strictness (StrictTransactions) and the race forced by payments_testing.racing, as the
refund race is: the losers decide again on the fresh order, which now holds the winner's request, and are
refused 409 naming it; a request whose attempts all lose is answered busy and retried with the same key.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest
from initializer_testdata import ORDERS_TABLE, cancel, capture, payment_method_order, post
from test_initializer_refund_races import busy

from initializer.entrypoints import outcome
from payments_shared.eventstore.dynamodb import get_row
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import json_body
from payments_testing.racing import at_once

RACERS = 10


def authorized_order() -> str:
    response = post(payment_method_order(amount="100.00", capture_method="manual"), key="race")
    assert response["statusCode"] == 201, response["body"]
    order_id = str(json_body(response)["payment_order_id"])
    event = payment_status_updated(order_id=order_id, amount="100.00", status="AUTHORIZED")
    assert deliver(outcome.handler, event) == []
    return order_id


def ask(order_id: str, n: int) -> dict[str, Any]:
    """Racer n: a capture of a different amount (even n) or a cancel (odd n), retried while busy."""

    def once() -> dict[str, Any]:
        if n % 2:
            return cancel(order_id, {"cancellation_reason": "requested_by_customer"}, key=f"racer-{n}")
        return capture(order_id, {"amount": f"{10 + n}.00", "currency": "EUR"}, key=f"racer-{n}")

    response = once()
    while busy(response):
        response = once()
    return response


@pytest.mark.parametrize("overlap", [True, False])
def test_racing_captures_and_cancels_settle_the_authorization_once(racing: dict[str, Any], overlap: bool) -> None:
    order_id = authorized_order()
    racing["racing"].arm(racing["strict"], RACERS, overlap=overlap)
    answers = at_once([partial(ask, order_id, n) for n in range(RACERS)])

    assert Counter(a["statusCode"] for a in answers) == {202: 1, 409: RACERS - 1}, [a["body"] for a in answers]
    [winner] = [n for n, a in enumerate(answers) if a["statusCode"] == 202]
    for n, answer in enumerate(answers):
        if n != winner:
            assert json_body(answer)["type"] == "urn:payments:problem:authorization-already-settled"
    events = racing["store"].load(f"payment-{order_id}", use_snapshot=False).events
    settled = [e for e in events if e.event_type in ("CaptureRequested", "CancelRequested")]
    assert [e.data["idempotency_key"] for e in settled] == [f"racer-{winner}"]
    if winner % 2 == 0:
        assert settled[0].data["amount_minor"] == (10 + winner) * 100

    # The winner's retry answers as it first did, after the race.
    retried = ask(order_id, winner)
    assert retried["statusCode"] == 202
    row = get_row(racing["dynamodb"], ORDERS_TABLE, {"payment_order_id": order_id})
    assert row is not None and row["version"] == events[-1].version and row["status"] == "AUTHORIZED"
