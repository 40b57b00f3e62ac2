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


def test_an_amount_stripe_cannot_charge_is_a_400_naming_the_field(in_memory: InMemoryEventStore) -> None:
    at_stripes_maximum = post_once(valid_order(amount="99999999", currency="JPY"))  # chargeable, over our limit
    assert at_stripes_maximum["statusCode"] == 201 and json_body(at_stripes_maximum)["status"] == "FAILED"
    for amount, reason in [
        ("100000000", "Stripe's maximum charge in JPY is 99999999"),
        ("1" + "0" * 18, "amount is too large"),  # past the field's own bound
        ("49", "Stripe's minimum charge in JPY is 50"),
    ]:
        past = post_once(valid_order(amount=amount, currency="JPY"))
        assert past["statusCode"] == 400, amount
        [problem] = json_body(past)["errors"]
        assert problem["field"] == "body.amount" and reason in problem["reason"], problem
    assert [event_type for event_type, _, _ in events_of(in_memory)] == ["PaymentRejected"]  # the 400s wrote nothing


@pytest.mark.parametrize(
    ("amount", "currency", "field", "reason"),
    [
        ("0.10", "EUR", "body.amount", "Stripe's minimum charge in EUR is 0.50"),
        ("1.99", "PLN", "body.amount", "Stripe's minimum charge in PLN is 2.00"),
        ("5.125", "KWD", "body.amount", "KWD amounts must be whole multiples of 0.010 at Stripe"),
        ("10", "UYI", "body.currency", "Stripe does not take payments in UYI"),
    ],
)
def test_an_order_stripe_would_refuse_is_a_400_and_writes_nothing(
    in_memory: InMemoryEventStore, amount: str, currency: str, field: str, reason: str
) -> None:
    response = post_once(valid_order(amount=amount, currency=currency))
    assert response["statusCode"] == 400
    assert [(e["field"], e["reason"]) for e in json_body(response)["errors"]] == [(field, f"Value error, {reason}")]
    assert events_of(in_memory) == []


def test_the_minimum_itself_is_accepted_and_zero_stays_a_business_refusal(in_memory: InMemoryEventStore) -> None:
    assert json_body(post_once(valid_order(amount="0.50", currency="EUR")))["status"] == "INITIATED"
    zero = json_body(post_once(valid_order(amount="0.00", currency="EUR")))
    assert (zero["status"], zero["failure_reason"]) == ("FAILED", "amount must be greater than zero")
