"""payments-ops against the local stack: a dead letter listed, redriven and processed once; a payment traced
across the four stores in one trace."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from devstack.load import MERCHANTS, drive, http, settle
from devstack.moto_local import client, wait_until_drained
from devstack.stack import Devstack
from devstack.webhooks import register_everyone
from ops.cli import main

from payments_testing.events import payment_status_updated


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    running = Devstack(api_port=0, logs=tmp_path_factory.mktemp("logs") / "lambda.jsonl")
    yield running
    running.stop()


def ops(stack: Devstack, *args: str) -> tuple[int, Any]:
    out = io.StringIO()  # not stdout: the handlers running beside write their EMF metrics there
    code = main(["--endpoint-url", stack.moto.url, "--json", *args], out=out)
    return code, json.loads(out.getvalue())


def wallet_minor(stack: Devstack, merchant: str) -> int:
    status, wallet = http("GET", f"{stack.api.url}/wallets/{merchant}", signer=stack.keys.operator)
    return sum(b["amount_minor"] for b in wallet.get("balances", [])) if status == 200 else 0


def test_a_dead_letter_is_listed_then_redriven_and_processed_once(
    stack: Devstack,
) -> None:
    # A credit the wallet could not apply earlier (say, a bug since fixed), parked in its DLQ.
    merchant = MERCHANTS[2]
    event = payment_status_updated(merchant_id=merchant, amount="5.00", currency="EUR")
    dlq = client("sqs").get_queue_url(QueueName="wallet-dlq")["QueueUrl"]
    client("sqs").send_message(QueueUrl=dlq, MessageBody=json.dumps(event))
    before = wallet_minor(stack, merchant)

    code, letters = ops(stack, "dlq", "list")
    assert code == 1  # letters waiting: scripts and alarms can tell
    [letter] = letters
    assert letter["consumer"] == "wallet" and letter["payment_order_id"] == event["detail"]["data"]["payment_order_id"]
    assert letter["event_type"] == "PaymentStatusUpdated" and "failed 5 deliveries" in letter["reason"]
    again = ops(stack, "dlq", "list")[1]  # listing consumed nothing (each peek is one more receive)
    assert [a["message_id"] for a in again] == [letter["message_id"]]

    assert ops(stack, "dlq", "redrive", "--consumer", "wallet", "--dry-run")[1][0]["moved"] == 0
    [moved] = ops(stack, "dlq", "redrive", "--consumer", "wallet")[1]
    assert (moved["method"], moved["moved"]) == ("send-then-delete", 1)
    deadline = time.monotonic() + 60
    while wallet_minor(stack, merchant) != before + 500 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert wallet_minor(stack, merchant) == before + 500
    assert ops(stack, "dlq", "redrive", "--consumer", "wallet")[1][0]["moved"] == 0  # nothing left
    wait_until_drained("wallet-inbox")  # every delivery so far has been processed
    assert wallet_minor(stack, merchant) == before + 500  # processed once
    assert ops(stack, "dlq", "list") == (0, [])


def test_a_parked_webhook_delivery_is_listed_then_redriven_and_delivered_again(stack: Devstack) -> None:
    """A delivery the queue parked after every attempt (its endpoint was down for days): `dlq list` names it,
    `dlq redrive` sends it back to notifier-deliveries, and the deliverer attempts it again, delivered."""
    hooks = register_everyone(stack.api.url, stack.keys, stack.receiver, MERCHANTS, seed=21)
    assert hooks.unexpected == []
    sent = drive(stack.api.url, stack.keys, 4, 2, seed=21, progress=False, mix=[("approve", 1.0)])
    settle(stack.api.url, stack.keys, sent, timeout_s=120)
    deadline = time.monotonic() + 60
    while not stack.receiver.acknowledged() and time.monotonic() < deadline:
        time.sleep(0.5)
    merchant = next(m for m in MERCHANTS if stack.receiver.acknowledged(m))
    wait_until_drained("notifier-deliveries")  # before counting: a late duplicate acknowledgement counts too
    [(event_id, before), *_] = stack.receiver.acknowledged(merchant).items()
    sqs = client("sqs")
    parked = {"merchant_id": merchant, "event_id": event_id, "endpoint_id": hooks.endpoints[merchant]}
    dlq = sqs.get_queue_url(QueueName="notifier-deliveries-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(parked))

    code, letters = ops(stack, "dlq", "list", "--consumer", "notifier-deliveries")
    assert code == 1
    [letter] = letters
    assert (letter["consumer"], letter["event_id"]) == ("notifier-deliveries", event_id)
    assert f"endpoint {parked['endpoint_id']} of merchant {merchant}" in letter["reason"]

    [moved] = ops(stack, "dlq", "redrive", "--consumer", "notifier-deliveries")[1]
    assert (moved["consumer"], moved["method"], moved["moved"]) == ("notifier-deliveries", "send-then-delete", 1)
    deadline = time.monotonic() + 60
    while stack.receiver.acknowledged(merchant)[event_id] == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert stack.receiver.acknowledged(merchant)[event_id] == before + 1  # attempted again, and acknowledged
    assert ops(stack, "dlq", "list", "--consumer", "notifier-deliveries") == (0, [])


def test_a_payment_is_traced_across_the_four_stores_in_one_trace(
    stack: Devstack,
) -> None:
    sent = drive(stack.api.url, stack.keys, 6, 2, seed=11, progress=False, mix=[("approve", 1.0)])
    final = settle(stack.api.url, stack.keys, sent, timeout_s=120)
    order_id = next(i for i, body in final.items() if body["status"] == "SUCCESS")
    deadline = time.monotonic() + 60
    while True:
        code, events = ops(stack, "trace", order_id)
        if {e["service"] for e in events} == {"initializer", "finalizer", "ledger", "wallet"}:
            break
        assert time.monotonic() < deadline, events
        time.sleep(0.5)
    assert code == 0 and events[0]["event_type"] == "PaymentInitiated"
    assert [e["occurred_at"] for e in events] == sorted(e["occurred_at"] for e in events)
    assert len({e["trace_id"] for e in events}) == 1 and events[0]["trace_id"]  # one trace, end to end
    assert ops(stack, "trace", "no-such-payment") == (1, [])
