"""POST /payouts in-process on the in-memory store, and ten payouts racing on the strict DynamoDB: a payout
moves available money out once per Idempotency-Key, never more than is available; the wallet's balance drops
by it (what we owe, as the ledger's merchant_payable) and its paid_out grows."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from types import ModuleType
from typing import Any

import pytest
from moto import mock_aws

from payments_shared.eventstore.dynamodb import DynamoDBEventStore, table_definition
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.fees import FeeSchedule
from payments_shared.ids import PayoutId
from payments_shared.retry import RetryPolicy
from payments_testing.aws import LambdaContext, SerializedClient, aws_client, fake_credentials
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import MERCHANT_1, MERCHANT_2, OPERATOR_1, api_event, json_body
from payments_testing.racing import RacingWrites, at_once
from payments_testing.stores import table
from payments_testing.strict_dynamodb import StrictTransactions
from wallet.adapters.dynamodb_balances import DynamoDBBalances
from wallet.app import WalletApp
from wallet.entrypoints import api, credit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DELAY_S = 2 * 24 * 3600


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(runtime: ModuleType, store: InMemoryEventStore) -> Clock:
    """The wallet app on the in-memory store, under a clock the test moves."""
    now = Clock()
    balances = runtime.container.balances()
    app = WalletApp(store, balances, shards=4, fees=FeeSchedule(), settlement_delay_s=DELAY_S, clock=now)
    runtime.container.app.override(app)
    return now


def payout(body: dict[str, Any], key: str | None = "k-1", caller: str | None = MERCHANT_1) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.handler(api_event("POST", "/payouts", body, headers=headers, caller=caller), LambdaContext())


def wallet(merchant_id: str = "merchant-1") -> dict[str, Any]:
    event = api_event(
        "GET",
        f"/wallets/{merchant_id}",
        resource="/wallets/{merchant_id}",
        path_parameters={"merchant_id": merchant_id},
        caller=OPERATOR_1,
    )
    [eur] = json_body(api.handler(event, LambdaContext()))["balances"]
    return {k: eur[k]["amount_minor"] for k in ("pending", "available", "paid_out")} | {"balance": eur["amount_minor"]}


def captured(amount: str, merchant_id: str = "merchant-1") -> None:
    assert deliver(credit.handler, payment_status_updated(amount=amount, merchant_id=merchant_id)) == []


def test_a_merchant_pays_out_its_available_balance_once_per_key(clock: Clock) -> None:
    captured("10.00")
    clock.now = T0 + timedelta(days=3)  # settled
    captured("5.00")  # pending still
    assert wallet() == {"balance": 1500, "pending": 500, "available": 1000, "paid_out": 0}

    response = payout({"currency": "EUR", "amount": "4.00"})
    assert response["statusCode"] == 201, response["body"]
    body = json_body(response)
    assert body == {
        "payout_id": PayoutId.for_idempotency_key("merchant-1", "k-1"),
        "merchant_id": "merchant-1",
        "amount": "4.00",
        "amount_minor": 400,
        "currency": "EUR",
        "status": "PAID",
        "created": "2026-12-04T09:00:00Z",
    }
    again = payout({"currency": "EUR", "amount": "4.00"})  # the client retries after a lost answer
    assert again["statusCode"] == 201 and json_body(again) == body
    assert wallet() == {"balance": 1100, "pending": 500, "available": 600, "paid_out": 400}

    rest = payout({"currency": "EUR"}, key="k-2")  # no amount: everything available
    assert json_body(rest)["amount_minor"] == 600
    assert wallet() == {"balance": 500, "pending": 500, "available": 0, "paid_out": 1000}


def test_more_than_available_or_nothing_available_is_422_naming_the_available_amount(clock: Clock) -> None:
    captured("10.00")
    refused = payout({"currency": "EUR"})  # captured just now: pending, nothing available
    assert refused["statusCode"] == 422
    problem = json_body(refused)
    assert problem["type"] == "urn:payments:problem:payout-exceeds-available"
    assert problem["errors"] == [{"field": "body.amount", "reason": "at most 0.00 EUR is available to pay out"}]
    clock.now = T0 + timedelta(days=3)
    too_much = payout({"currency": "EUR", "amount": "10.01"}, key="k-2")
    assert too_much["statusCode"] == 422 and "at most 10.00 EUR" in too_much["body"]
    assert wallet() == {"balance": 1000, "pending": 0, "available": 1000, "paid_out": 0}  # nothing moved


def test_the_key_is_required_and_bad_input_is_400_naming_the_field(clock: Clock) -> None:
    captured("10.00")
    missing = payout({"currency": "EUR"}, key=None)
    assert missing["statusCode"] == 400
    assert json_body(missing)["errors"] == [{"field": "header.idempotency-key", "reason": "Field required"}]
    for body, field in (
        ({"currency": "XXX"}, "body.currency"),
        ({"currency": "EUR", "amount": "0"}, "body.amount"),
        ({"currency": "EUR", "amount": "1.234"}, "body.amount"),
        ({"currency": "EUR", "extra": 1}, "body.extra"),
    ):
        response = payout(body)
        assert response["statusCode"] == 400, body
        assert [e["field"] for e in json_body(response)["errors"]] == [field], body


def test_a_merchant_pays_out_only_its_own_wallet_and_an_operator_names_one(clock: Clock) -> None:
    captured("10.00")
    clock.now = T0 + timedelta(days=3)
    other = payout({"merchant_id": "merchant-1", "currency": "EUR"}, caller=MERCHANT_2)
    assert other["statusCode"] == 403 and "merchant-1" not in json.loads(other["body"])["detail"]
    unnamed = payout({"currency": "EUR"}, caller=OPERATOR_1)
    assert unnamed["statusCode"] == 400 and json_body(unnamed)["errors"][0]["field"] == "body.merchant_id"
    assert payout({"merchant_id": "nobody", "currency": "EUR"}, caller=OPERATOR_1)["statusCode"] == 404
    scheduled = payout({"merchant_id": "merchant-1", "currency": "EUR"}, key="schedule-2026-12-04", caller=OPERATOR_1)
    assert scheduled["statusCode"] == 201 and json_body(scheduled)["amount_minor"] == 1000


def test_a_key_used_in_another_currency_is_refused(clock: Clock) -> None:
    captured("10.00")
    assert deliver(credit.handler, payment_status_updated(amount="500", currency="JPY")) == []
    clock.now = T0 + timedelta(days=3)
    assert payout({"currency": "EUR"})["statusCode"] == 201
    reused = payout({"currency": "JPY"})
    assert reused["statusCode"] == 422 and json_body(reused)["type"] == "urn:payments:problem:idempotency-key-reused"


# Ten payouts racing on the strict DynamoDB.
RACERS = 10
ASKS = ["3.00", "2.00", "4.00", "1.00", "5.00"] * 2  # 30.00 asked of 20.00 available


@pytest.fixture
def racing(runtime: ModuleType) -> Iterator[dict[str, Any]]:
    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        dynamodb.create_table(**table_definition("wallet-events"))
        dynamodb.create_table(**table("WalletBalances", "merchant_id", "shard"))
        strict = StrictTransactions().install()
        racer = RacingWrites(SerializedClient(dynamodb))
        now = Clock()
        app = WalletApp(
            DynamoDBEventStore(racer, "wallet-events"),
            DynamoDBBalances(racer, "WalletBalances"),
            shards=4,
            fees=FeeSchedule(),
            settlement_delay_s=DELAY_S,
            clock=now,
            retry_policy=RetryPolicy(attempts=12, base_delay_s=0.001, max_delay_s=0.01),
        )
        runtime.container.app.override(app)
        try:
            yield {"strict": strict, "racing": racer, "clock": now, "app": app}
        finally:
            strict.uninstall()


def busy(response: dict[str, Any]) -> bool:
    """Every attempt lost (409) or met a passing refusal (503): nothing written, the client asks again."""
    return response["statusCode"] in (409, 503)


def ask(n: int) -> dict[str, Any]:
    response = payout({"currency": "EUR", "amount": ASKS[n]}, key=f"payout-{n}")
    while busy(response):
        response = payout({"currency": "EUR", "amount": ASKS[n]}, key=f"payout-{n}")
    return response


@pytest.mark.parametrize("overlap", [True, False])
def test_ten_racing_payouts_never_pay_out_more_than_available(racing: dict[str, Any], overlap: bool) -> None:
    for amount in ("8.00", "12.00"):
        captured(amount)
    racing["clock"].now = T0 + timedelta(days=3)
    racing["racing"].arm(racing["strict"], RACERS, overlap=overlap)
    answers = at_once([partial(ask, n) for n in range(RACERS)])

    assert Counter(a["statusCode"] for a in answers).keys() <= {201, 422}, [a["body"] for a in answers]
    won = [json_body(a)["amount_minor"] for a in answers if a["statusCode"] == 201]
    shown = racing["app"].wallet("merchant-1")["figures"]["EUR"]
    assert sum(won) <= 2000 and shown.paid_out == sum(won)  # exactly the winners' sum, within what was there
    assert shown.balance == 2000 - sum(won) and shown.available == 2000 - sum(won)
    refused = [n for n, a in enumerate(answers) if a["statusCode"] == 422]
    # each refusal was decided on what was left then, which only shrank since
    assert refused and all(2000 - sum(won) < int(ASKS[n].replace(".", "")) for n in refused)
    # the race was real: every racer's first write met another's
    assert racing["racing"].first_outcomes["written"] == 1
    assert sum(racing["racing"].first_outcomes.values()) == RACERS
