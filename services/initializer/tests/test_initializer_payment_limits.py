"""The payment limits at their edges: the limit itself is accepted, one minor unit more is refused.

The limits are business rules (PAYMENT_LIMITS, per currency): a well-formed order over its limit is recorded
FAILED with the reason (201), as every business refusal is. The amount field's own bound (at most 18 integer
digits) is a validation rule: past it the request is a 400 naming the field, and nothing is written.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from initializer_testdata import post, valid_order

from initializer.container import DEFAULT_LIMITS
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.money import Money
from payments_testing.http import json_body

LIMITS = {currency: Money.parse(amount, currency) for currency, amount in json.loads(DEFAULT_LIMITS).items()}


def post_once(body: Any) -> dict[str, Any]:
    """A new order each time: its own Idempotency-Key."""
    return post(body, key=str(uuid.uuid4()))


def events_of(store: InMemoryEventStore) -> list[tuple[str, int, str]]:
    return [(e.event_type, e.data["amount_minor"], e.data["currency"]) for s in store._streams.values() for e in s]


@pytest.mark.parametrize("currency", sorted(LIMITS))
def test_an_amount_exactly_at_the_limit_is_accepted(in_memory: InMemoryEventStore, currency: str) -> None:
    limit = LIMITS[currency]
    response = post_once(valid_order(amount=limit.to_decimal_string(), currency=currency))
    body = json_body(response)
    assert response["statusCode"] == 201 and body["status"] == "INITIATED", body
    assert body["amount"] == limit.to_decimal_string() and body["failure_reason"] is None
    assert events_of(in_memory) == [("PaymentInitiated", limit.minor, currency)]


@pytest.mark.parametrize("currency", sorted(LIMITS))
def test_one_minor_unit_above_the_limit_is_refused_naming_the_limit(
    in_memory: InMemoryEventStore, currency: str
) -> None:
    limit = LIMITS[currency]
    above = Money(limit.minor + 1, currency).to_decimal_string()  # "10000.01" EUR, "1500001" JPY
    response = post_once(valid_order(amount=above, currency=currency))
    body = json_body(response)
    assert response["statusCode"] == 201 and body["status"] == "FAILED"
    assert body["failure_reason"] == f"amount exceeds the limit of {limit}"
    assert events_of(in_memory) == [("PaymentRejected", limit.minor + 1, currency)]  # recorded, never charged


def test_the_amount_fields_own_bound_is_a_400_naming_the_field(in_memory: InMemoryEventStore) -> None:
    at_bound = post_once(valid_order(amount="9" * 18, currency="JPY"))  # well-formed, over the limit
    assert at_bound["statusCode"] == 201 and json_body(at_bound)["status"] == "FAILED"
    past = post_once(valid_order(amount="1" + "0" * 18, currency="JPY"))
    assert past["statusCode"] == 400
    assert [e["field"] for e in json_body(past)["errors"]] == ["body.amount"]
    assert [event_type for event_type, _, _ in events_of(in_memory)] == ["PaymentRejected"]  # the 400 wrote nothing
