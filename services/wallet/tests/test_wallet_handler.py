"""The wallet's handlers in-process with the in-memory event store."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.fees import FeeSchedule
from payments_shared.ids import RefundId
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, dispute_status_updated, payment_status_updated, refund_status_updated
from payments_testing.http import MERCHANT_1, MERCHANT_2, OPERATOR_1, api_event
from wallet.entrypoints import api, credit


def get_wallet(handler: ModuleType, merchant_id: str, caller: str | None = MERCHANT_1) -> dict[str, Any]:
    event = api_event(
        "GET",
        f"/wallets/{merchant_id}",
        resource="/wallets/{merchant_id}",
        path_parameters={"merchant_id": merchant_id},
        caller=caller,
    )
    return api.handler(event, LambdaContext())


def test_success_credits_once_per_event_and_failures_never(runtime: ModuleType, store: InMemoryEventStore):
    first = payment_status_updated(amount="12.34")
    for event in (
        first,
        first,
        payment_status_updated(amount="0.66"),
        payment_status_updated(amount="500", currency="JPY"),
        payment_status_updated(status="FAILED", amount="99.00"),
    ):
        assert deliver(credit.handler, event) == []
    response = get_wallet(runtime, "merchant-1")
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    # captured just now: all of it pending (the settlement delay), nothing available nor paid out yet
    assert body["balances"] == [
        {
            "currency": "EUR",
            "amount": "13.00",
            "amount_minor": 1300,
            "pending": {"amount": "13.00", "amount_minor": 1300},
            "available": {"amount": "0.00", "amount_minor": 0},
            "paid_out": {"amount": "0.00", "amount_minor": 0},
        },
        {
            "currency": "JPY",
            "amount": "500",
            "amount_minor": 500,
            "pending": {"amount": "500", "amount_minor": 500},
            "available": {"amount": "0", "amount_minor": 0},
            "paid_out": {"amount": "0", "amount_minor": 0},
        },
    ]
    assert body["version"] == 3


def test_unknown_wallet_is_404_and_malformed_id_is_400(runtime: ModuleType, store: InMemoryEventStore):
    assert get_wallet(runtime, "nobody", caller=OPERATOR_1)["statusCode"] == 404
    bad = get_wallet(runtime, "bad%20id!")
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["errors"][0]["field"] == "path.merchant_id"


def test_every_credit_writes_a_snapshot_so_loads_replay_nothing(runtime: ModuleType, store: InMemoryEventStore) -> None:
    for _ in range(5):
        assert deliver(credit.handler, payment_status_updated(amount="1.00")) == []
    loaded = [store.load(f"wallet-merchant-1#{shard:02d}") for shard in range(16)]
    snapshots = [s.snapshot for s in loaded if s.snapshot is not None]
    assert all(list(s.events) == [] for s in loaded)
    assert sum(s.version for s in snapshots) == 5 and sum(s.state["balances"]["EUR"] for s in snapshots) == 500


def test_credits_spread_over_shards_and_the_balance_sums_them(runtime: ModuleType, store: InMemoryEventStore) -> None:
    for _ in range(40):
        assert deliver(credit.handler, payment_status_updated(amount="1.00")) == []
    rows = runtime.container.balances().rows.all()
    assert len(rows) > 1 and sum(row["balances"]["EUR"] for row in rows) == 4000
    body = json.loads(get_wallet(runtime, "merchant-1")["body"])
    assert body["balances"][0]["amount_minor"] == 4000 and body["version"] == 40


def test_malformed_event_raises_and_credits_nothing(runtime: ModuleType, store: InMemoryEventStore) -> None:
    event = payment_status_updated()
    event["detail"]["data"]["amount"] = "12.3"  # disagrees with amount_minor
    assert deliver(credit.handler, event) == [0]  # reported: redelivered, then the DLQ
    assert get_wallet(runtime, "merchant-1")["statusCode"] == 404


def test_a_merchant_reads_only_its_own_wallet_and_operators_any(runtime: ModuleType, store: InMemoryEventStore) -> None:
    assert deliver(credit.handler, payment_status_updated(merchant_id="merchant-1")) == []
    assert get_wallet(runtime, "merchant-1", caller=MERCHANT_1)["statusCode"] == 200
    assert get_wallet(runtime, "merchant-1", caller=OPERATOR_1)["statusCode"] == 200
    refused = get_wallet(runtime, "merchant-1", caller=MERCHANT_2)
    assert refused["statusCode"] == 403 and "merchant-1" not in refused["body"]
    assert get_wallet(runtime, "merchant-1", caller=None)["statusCode"] == 403


def test_the_wallet_holds_captures_net_of_fees_less_refunds_each_once(
    runtime: ModuleType, store: InMemoryEventStore
) -> None:
    runtime.container.fee_schedule.override(FeeSchedule(290, {"EUR": 30}))
    paid = payment_status_updated(amount="10.00")
    order_id = paid["detail"]["data"]["payment_order_id"]
    taken, refused = (RefundId.for_idempotency_key(order_id, key) for key in ("k-1", "k-2"))
    refunded = refund_status_updated(order_id, taken, amount="4.00")
    again = refund_status_updated(order_id, taken, amount="4.00")  # the same refund, another event id
    failed = refund_status_updated(order_id, refused, "FAILED", amount="1.00")
    assert deliver(credit.handler, paid, refunded, refunded, again, failed) == []

    def balance() -> list[dict[str, object]]:
        shown = json.loads(get_wallet(runtime, "merchant-1")["body"])["balances"]
        return [{k: row[k] for k in ("currency", "amount", "amount_minor")} for row in shown]

    assert balance() == [{"currency": "EUR", "amount": "5.41", "amount_minor": 541}]  # 10.00 - 0.59 - 4.00
    reversed_ = refund_status_updated(order_id, taken, "REVERSED", amount="4.00")
    assert deliver(credit.handler, reversed_, reversed_) == []
    assert balance() == [{"currency": "EUR", "amount": "9.41", "amount_minor": 941}]
    second = refund_status_updated(order_id, RefundId.for_idempotency_key(order_id, "k-3"), amount="10.00")
    assert deliver(credit.handler, second) == []
    assert balance() == [{"currency": "EUR", "amount": "-0.59", "amount_minor": -59}]  # the merchant owes us


def test_a_partial_capture_credits_only_what_was_captured(runtime: ModuleType, store: InMemoryEventStore) -> None:
    held = payment_status_updated(amount="12.34", status="AUTHORIZED")
    order_id = held["detail"]["data"]["payment_order_id"]
    captured = payment_status_updated(amount="10.00", order_id=order_id)  # 2.34 of the hold released
    captured["detail"]["data"]["amount_authorized_minor"] = 1234
    canceled = payment_status_updated(amount="5.00", status="CANCELED")

    for event in (held, canceled, captured, captured):
        assert deliver(credit.handler, event) == []

    [shown] = json.loads(get_wallet(runtime, "merchant-1")["body"])["balances"]
    assert (shown["currency"], shown["amount"], shown["amount_minor"]) == ("EUR", "10.00", 1000)


def test_disputes_debit_amount_and_fee_once_a_win_credits_the_amount_back_and_a_loss_nothing_more(
    runtime: ModuleType, store: InMemoryEventStore
) -> None:
    paid = payment_status_updated(amount="10.00")
    order_id = paid["detail"]["data"]["payment_order_id"]
    opened = dispute_status_updated(order_id, "dp_1", amount_minor=1000, fee_minor=1500)
    again = dispute_status_updated(order_id, "dp_1", amount_minor=1000, fee_minor=1500)  # another event id
    lost = dispute_status_updated(order_id, "dp_1", "LOST", amount_minor=1000, fee_minor=1500)
    assert deliver(credit.handler, paid, opened, opened, again, lost) == []

    def balance() -> int:
        return int(json.loads(get_wallet(runtime, "merchant-1")["body"])["balances"][0]["amount_minor"])

    assert balance() == 1000 - 2500  # the merchant bears the amount and the dispute fee
    won = dispute_status_updated(order_id, "dp_2", "WON", amount_minor=1000, fee_minor=1500)
    won_opened = dispute_status_updated(order_id, "dp_2", amount_minor=1000, fee_minor=1500)
    assert deliver(credit.handler, won, won_opened, won) == []  # the close may come first
    assert balance() == 1000 - 2500 - 2500 + 1000  # a win gives back the amount, not the fee
