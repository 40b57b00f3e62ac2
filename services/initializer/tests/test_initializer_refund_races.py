"""Twenty refunds of one payment racing through the real HTTP entry point never refund more than was captured.

On moto with DynamoDB's strictness (StrictTransactions) and the race forced by payments_testing.racing: every
request has loaded the order and decided before any writes, then their transactions overlap in flight
(TransactionConflict) or come one after the other (ConditionalCheckFailed). The losers decide again on the
fresh order; a request whose attempts all lose is answered 409 and retried by its client with the same key.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest
from initializer_testdata import ORDERS_TABLE, payment_method_order, post, refund

from initializer.entrypoints import outcome
from payments_shared.eventstore.dynamodb import get_row
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import json_body
from payments_testing.racing import at_once

RACERS = 20
# 20 refunds asking for 180.00 in all, of a 100.00 payment: some must be refused, whichever wins.
AMOUNTS = ["7.00", "13.00", "5.00", "11.00", "9.00"] * 4


def captured_order() -> str:
    response = post(payment_method_order(amount="100.00"), key="race")
    assert response["statusCode"] == 201, response["body"]
    order_id = str(json_body(response)["payment_order_id"])
    assert deliver(outcome.handler, payment_status_updated(order_id=order_id, amount="100.00")) == []
    return order_id


def busy(response: dict[str, Any]) -> bool:
    """Every attempt lost its race (409 payment-busy) or met a passing refusal (503, Retry-After): nothing was
    written, and the client sends the same request again."""
    if response["statusCode"] == 503:
        headers = {**response.get("headers", {}), **response.get("multiValueHeaders", {})}
        return "Retry-After" in headers
    return response["statusCode"] == 409 and json_body(response)["type"] == "urn:payments:problem:payment-busy"


def ask(order_id: str, n: int) -> dict[str, Any]:
    """The client of refund n, retrying with its key while the API says it is busy."""
    body = {"amount": AMOUNTS[n], "currency": "EUR"}
    response = refund(order_id, body, key=f"refund-{n}")
    while busy(response):
        response = refund(order_id, body, key=f"refund-{n}")
    return response


@pytest.mark.parametrize("overlap", [True, False])
def test_racing_refunds_never_take_more_than_the_payment(racing: dict[str, Any], overlap: bool) -> None:
    order_id = captured_order()
    racing["racing"].arm(racing["strict"], RACERS, overlap=overlap)
    answers = at_once([partial(ask, order_id, n) for n in range(RACERS)])

    assert Counter(a["statusCode"] for a in answers).keys() <= {201, 422}, [a["body"] for a in answers]
    taken = {json_body(a)["refund_id"]: json_body(a)["amount"] for a in answers if a["statusCode"] == 201}
    events = racing["store"].load(f"payment-{order_id}", use_snapshot=False).events
    recorded = {e.data["refund_id"]: e.data["amount"] for e in events if e.event_type == "RefundRequested"}
    assert recorded == taken  # every 201 is a recorded refund, and nothing else was recorded
    total = sum(int(e.data["amount_minor"]) for e in events if e.event_type == "RefundRequested")
    assert total <= 100_00
    # A refusal was decided on what was left then, which only shrank since: less is left than any refused ask.
    refused = [n for n, a in enumerate(answers) if a["statusCode"] == 422]
    assert refused and 100_00 - total < min(int(AMOUNTS[n].replace(".", "")) for n in refused)
    for n in refused:
        assert json_body(answers[n])["errors"][0]["field"] == "body.amount"

    row = get_row(racing["dynamodb"], ORDERS_TABLE, {"payment_order_id": order_id})
    assert row is not None and {r["refund_id"] for r in row["refunds"]} == set(recorded)
    assert row["version"] == events[-1].version
