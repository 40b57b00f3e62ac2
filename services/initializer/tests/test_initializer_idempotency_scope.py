"""What an Idempotency-Key names: one order per merchant and key, for one request body, card included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from initializer_testdata import get, post, valid_order

from initializer.adapters.memory_orders import InMemoryPaymentOrders
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.http import MERCHANT_1, MERCHANT_2, content_type, json_body


def stored_events(store: InMemoryEventStore) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (stream_id, e.event_type, dict(e.data))
        for stream_id in sorted(store._streams)
        for e in store.load(stream_id).events
    ]


def test_two_merchants_with_the_same_key_get_two_orders_each_seeing_only_its_own(in_memory: InMemoryEventStore) -> None:
    first = post(valid_order(merchant_id="merchant-1"), "order-42", MERCHANT_1)
    second = post(valid_order(merchant_id="merchant-2", amount="99.00"), "order-42", MERCHANT_2)
    assert first["statusCode"] == second["statusCode"] == 201, second["body"]
    mine, theirs = json_body(first), json_body(second)
    assert mine["payment_order_id"] != theirs["payment_order_id"]
    assert (mine["merchant_id"], mine["amount"]) == ("merchant-1", "12.34")
    assert (theirs["merchant_id"], theirs["amount"]) == ("merchant-2", "99.00")  # not merchant-1's replayed
    assert {(stream, event_type, data["merchant_id"]) for stream, event_type, data in stored_events(in_memory)} == {
        (f"payment-{mine['payment_order_id']}", "PaymentInitiated", "merchant-1"),
        (f"payment-{theirs['payment_order_id']}", "PaymentInitiated", "merchant-2"),
    }

    # Each merchant reads its own order; the other's answers as a missing one.
    assert json_body(get(mine["payment_order_id"], MERCHANT_1)) == mine
    assert json_body(get(theirs["payment_order_id"], MERCHANT_2)) == theirs
    assert get(mine["payment_order_id"], MERCHANT_2)["statusCode"] == 404
    assert get(theirs["payment_order_id"], MERCHANT_1)["statusCode"] == 404

    # And each merchant's retry still finds its own first answer, not the other's.
    assert json_body(post(valid_order(merchant_id="merchant-1"), "order-42", MERCHANT_1)) == mine
    assert json_body(post(valid_order(merchant_id="merchant-2", amount="99.00"), "order-42", MERCHANT_2)) == theirs
    assert len(stored_events(in_memory)) == 2


@pytest.mark.parametrize(
    "changed",
    [
        {"card_number": "5555555555554444"},  # another card (mastercard)
        {"card_number": "4242424242424242"},  # another card of the same brand
        {"card_number": "4000000000061111"},  # another card with the same last four digits
        {"expiry_year": 2031},
        {"expiry_month": 11},
        {"holder_name": "Grace Hopper"},
    ],
)
def test_another_card_under_the_same_key_is_a_422_and_writes_nothing(
    in_memory: InMemoryEventStore, orders: InMemoryPaymentOrders, changed: dict[str, Any]
) -> None:
    first = post(valid_order(), "key-card")
    assert first["statusCode"] == 201
    order_id = json_body(first)["payment_order_id"]
    before = (stored_events(in_memory), orders.all())

    response = post(valid_order(**changed), "key-card")
    problem = json_body(response)
    assert response["statusCode"] == 422 and content_type(response) == "application/problem+json"
    assert problem["type"] == "urn:payments:problem:idempotency-key-reused" and order_id in problem["detail"]
    assert (stored_events(in_memory), orders.all()) == before  # nothing written
    assert json.dumps(changed.get("card_number", "-")) not in response["body"]
    # The first order stands, with its own card.
    assert json_body(get(order_id, MERCHANT_1))["card"] == {"brand": "visa", "last4": "1111"}


def test_the_cvv_is_not_part_of_the_request_a_key_names(in_memory: InMemoryEventStore) -> None:
    # The CVV is checked and dropped (never stored): a retry typed with another CVV is the same order.
    first = json_body(post(valid_order(), "key-cvv"))
    again = post(valid_order(cvv="123"), "key-cvv")
    assert again["statusCode"] == 201 and json_body(again) == first
    assert len(stored_events(in_memory)) == 1
