"""`expand` on the fake's PaymentIntents, through Stripe's own SDK: latest_charge and, nested, its balance
transaction with Stripe's fee, on a create, a capture and a GET; answers stored under a key as first expanded; a
path the fake cannot expand refused as Stripe refuses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from fake_psp.balance import card_fee
from fake_psp.server import API_KEY, FakePsp

FEE = ["latest_charge.balance_transaction"]
# stripe/openapi's openapi/fixtures3.json, balance_transaction: the keys of the object Stripe expands in place.
BALANCE_TRANSACTION_KEYS = {
    "id",
    "object",
    "amount",
    "available_on",
    "created",
    "currency",
    "description",
    "exchange_rate",
    "fee",
    "fee_details",
    "net",
    "reporting_category",
    "source",
    "status",
    "type",
}


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    running = FakePsp(refund_fail_after_s=None).start()
    yield running
    running.stop()


def client(psp: FakePsp) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)


def create(psp: FakePsp, key: str | None = None, **extra: Any) -> stripe.PaymentIntent:
    params: dict[str, Any] = {"amount": 1000, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"}
    options: dict[str, Any] = {"idempotency_key": key} if key else {}
    return client(psp).v1.payment_intents.create(params={**params, **extra}, options=options)  # type: ignore[typeddict-item, arg-type]


def test_a_create_expands_the_charge_and_its_balance_transaction_with_stripes_fee(psp: FakePsp) -> None:
    intent = create(psp, expand=FEE)

    charge = intent.latest_charge
    assert isinstance(charge, stripe.Charge) and charge.id.startswith("ch_")
    txn = charge.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction)
    assert set(txn.to_dict()) == BALANCE_TRANSACTION_KEYS
    # stripe.com/pricing: "2.9% + 30¢ per successful transaction for domestic cards"
    assert (txn.amount, txn.fee, txn.net, txn.currency, txn.source) == (1000, 59, 941, "eur", charge.id)
    assert [(f.type, f.amount, f.currency) for f in txn.fee_details] == [("stripe_fee", 59, "eur")]


def test_without_expand_or_with_the_charge_only_the_ids_stay_ids(psp: FakePsp) -> None:
    plain = create(psp)
    assert isinstance(plain.latest_charge, str)
    charge_only = create(psp, expand=["latest_charge"])
    assert isinstance(charge_only.latest_charge, stripe.Charge)
    assert isinstance(charge_only.latest_charge.balance_transaction, str)


def test_a_get_expands_as_a_create_does(psp: FakePsp) -> None:
    intent = create(psp)
    again = client(psp).v1.payment_intents.retrieve(intent.id, params={"expand": FEE})
    assert isinstance(again.latest_charge, stripe.Charge)
    assert again.latest_charge.id == intent.latest_charge
    assert isinstance(again.latest_charge.balance_transaction, stripe.BalanceTransaction)


def test_an_authorization_has_a_charge_but_no_balance_transaction_until_captured(psp: FakePsp) -> None:
    held = create(psp, capture_method="manual", expand=FEE)
    assert held.status == "requires_capture"
    assert isinstance(held.latest_charge, stripe.Charge) and held.latest_charge.balance_transaction is None

    captured = client(psp).v1.payment_intents.capture(
        held.id, params={"amount_to_capture": 600, "expand": FEE}, options={"idempotency_key": "cap-1"}
    )
    assert isinstance(captured.latest_charge, stripe.Charge)
    txn = captured.latest_charge.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction) and (txn.amount, txn.fee) == (600, card_fee(600, 290, 30))


def test_a_replay_answers_as_first_expanded_and_other_expands_are_other_parameters(psp: FakePsp) -> None:
    first = create(psp, key="order-1", expand=FEE)
    replay = create(psp, key="order-1", expand=FEE)
    assert replay.last_response is not None and replay.last_response.headers["Idempotent-Replayed"] == "true"
    assert replay.to_dict() == first.to_dict()
    with pytest.raises(stripe.IdempotencyError):
        create(psp, key="order-1")  # the same key without the expand: other parameters
    assert psp.charges["order-1"] == 1


def test_a_path_that_cannot_be_expanded_is_refused_and_nothing_is_charged(psp: FakePsp) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        create(psp, key="order-2", expand=["latest_charge.customer"])
    assert refused.value.param == "expand" and "latest_charge.customer" in str(refused.value.user_message)
    assert psp.charges["order-2"] == 0
    with pytest.raises(stripe.InvalidRequestError):
        client(psp).v1.payment_intents.retrieve(create(psp).id, params={"expand": ["customer"]})
