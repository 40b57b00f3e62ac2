"""payments-ops repairs on the local stack: rebuild restores a corrupted read model, replay repairs a dropped
delivery, reconcile finds a mismatch planted in each pair and none in a clean run."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from devstack.load import drive, http, settle
from devstack.moto_local import client, wait_until_drained
from devstack.stack import Devstack
from ops.cli import main

from ledger.domain.journal import EVENT_SCHEMAS as LEDGER_SCHEMAS
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.port import NewEvent
from payments_shared.money import Money
from payments_shared.topology import BUS, EVENT_STORES
from payments_testing.psp import charge_directly


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    running = Devstack(api_port=0, logs=tmp_path_factory.mktemp("logs") / "lambda.jsonl")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def settled(stack: Devstack) -> dict[str, dict[str, Any]]:
    """Payments of every kind, settled: id -> the order as GET /payments answers it."""
    sent = drive(
        stack.api.url,
        stack.keys,
        24,
        4,
        seed=5,
        progress=False,
        mix=[("approve", 0.6), ("decline", 0.25), ("refuse", 0.15)],
    )
    final = settle(stack.api.url, stack.keys, sent, timeout_s=120)
    assert {body["status"] for body in final.values()} >= {"SUCCESS", "FAILED"}
    wait_until(lambda: ops(stack, "reconcile", "--settle-seconds", "0")[0] == 0)  # every consumer caught up
    return final


def ops(stack: Devstack, *args: str) -> tuple[int, Any]:
    out = io.StringIO()  # not stdout: the handlers running beside write their EMF metrics there
    local = ["--psp-api-base", stack.psp.url] if args[0] in ("reconcile", "psp-payout") else []
    code = main(["--endpoint-url", stack.moto.url, "--json", *args, *local], out=out)
    return code, json.loads(out.getvalue())


def wait_until(condition: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.5)


def row(table: str, **key: str) -> dict[str, Any]:
    """A row as DynamoDB holds it; a NULL attribute reads as an absent one (the services write either)."""
    item = client("dynamodb").get_item(TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True)
    return {name: value for name, value in item.get("Item", {}).items() if value != {"NULL": True}}


def of_status(settled: dict[str, dict[str, Any]], status: str) -> list[dict[str, Any]]:
    """The orders of one status, each with its amount in minor units."""
    return [
        {**body, "amount_minor": Money.parse(body["amount"], body["currency"]).minor}
        for body in settled.values()
        if body["status"] == status
    ]


def test_a_clean_run_reconciles_without_a_mismatch(stack: Devstack, settled: dict[str, dict[str, Any]]) -> None:
    code, result = ops(stack, "reconcile", "--settle-seconds", "0")
    assert (code, result["mismatches"], result["psp_balance"]) == (0, [], [])  # psp_clearing = Stripe's balance
    assert result["payments"] >= len(settled)


def test_psp_payout_pays_the_available_balance_out_and_the_ledger_books_it_as_the_psp_shows_it(
    stack: Devstack, settled: dict[str, dict[str, Any]]
) -> None:
    # A currency whose charges have all settled: none turns available while the test pays it out.
    def settled_currencies() -> list[str]:
        return [c for c, f in sorted(stack.psp.balance().items()) if f["available"] > 0 and f["pending"] == 0]

    wait_until(lambda: bool(settled_currencies()))
    currency = settled_currencies()[0]
    code, made = ops(stack, "psp-payout", "--currency", currency.upper())
    assert (code, made["currency"], made["status"]) == (0, currency.upper(), "pending")
    assert made["amount_minor"] > 0 and stack.psp.balance()[currency]["available"] == 0
    # payout.paid reaches the finalizer's webhook, the ledger books bank DEBIT, psp_clearing CREDIT
    ledger = DynamoDBEventStore(client("dynamodb"), EVENT_STORES["ledger"], LEDGER_SCHEMAS)
    wait_until(lambda: bool(ledger.load(f"journal-psp-payout-{made['payout_id']}").events))
    [posted] = ledger.load(f"journal-psp-payout-{made['payout_id']}").events
    assert {(p["account"], p["side"], p["amount_minor"]) for p in posted.data["postings"]} == {
        ("bank", "DEBIT", made["amount_minor"]),
        ("psp_clearing", "CREDIT", made["amount_minor"]),
    }
    code, result = ops(stack, "reconcile", "--settle-seconds", "0")
    assert (code, result["psp_balance"]) == (0, [])  # the payout is on both sides
    assert ops(stack, "psp-payout", "--currency", currency.upper()) == (0, {})  # nothing left to pay out


@pytest.mark.parametrize("read_model", ["payment-orders", "payment-results", "wallet-balances", "ledger-totals"])
def test_an_untouched_read_model_rebuilds_into_a_fresh_table_equal_to_the_live_one(
    stack: Devstack, settled: dict[str, dict[str, Any]], read_model: str
) -> None:
    code, result = ops(stack, "rebuild", read_model, "--into", f"rebuilt-{read_model}")
    assert (code, result["before"], result["after"]) == (0, [], [])
    assert result["rows"] > 0 and result["written"] == result["rows"]
    scanned = client("dynamodb").scan(TableName=f"rebuilt-{read_model}", Select="COUNT")["Count"]
    assert scanned == result["rows"]


def test_rebuild_in_place_restores_corrupted_rows_of_every_read_model(
    stack: Devstack, settled: dict[str, dict[str, Any]]
) -> None:
    dynamodb = client("dynamodb")
    paid = of_status(settled, "SUCCESS")[0]
    order_id, merchant = paid["payment_order_id"], paid["merchant_id"]
    before = row("ShowMeTheMoney", payment_order_id=order_id)
    dynamodb.update_item(
        TableName="ShowMeTheMoney",
        Key={"payment_order_id": {"S": order_id}},
        UpdateExpression="SET #s = :s REMOVE buyer_info",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "FAILED"}},
    )
    dynamodb.delete_item(TableName="BreakingTheBank", Key={"payment_order_id": {"S": order_id}})
    shard = dynamodb.query(
        TableName="WalletBalances",
        KeyConditionExpression="merchant_id = :m",
        ExpressionAttributeValues={":m": {"S": merchant}},
    )["Items"][0]
    key = {"merchant_id": shard["merchant_id"], "shard": shard["shard"]}
    dynamodb.update_item(
        TableName="WalletBalances",
        Key=key,
        UpdateExpression="SET balances.#c = :v",
        ExpressionAttributeNames={"#c": paid["currency"]},
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    clearing = {"account": {"S": "psp_clearing"}, "currency": {"S": paid["currency"]}}
    dynamodb.update_item(
        TableName="LedgerAccounts",
        Key=clearing,
        UpdateExpression="ADD debits_minor :d",
        ExpressionAttributeValues={":d": {"N": "7"}},
    )
    status, books = http("GET", f"{stack.api.url}/ledger/trial-balance", signer=stack.keys.operator)
    assert status == 200 and not books["balanced"]  # the corruption shows

    expected = {
        "payment-orders": ("different", {"status", "buyer_info"}),
        "payment-results": ("missing", set()),
        "wallet-balances": ("different", {"balances"}),
        "ledger-totals": ("different", {"debits_minor"}),
    }
    for read_model, (kind, fields) in expected.items():
        code, result = ops(stack, "rebuild", read_model, "--in-place")
        [found] = result["before"]
        assert (found["kind"], set(found["fields"])) == (kind, fields), read_model
        assert (code, result["after"], result["written"]) == (0, [], 1), read_model
        assert ops(stack, "rebuild", read_model, "--in-place")[1]["written"] == 0  # nothing left to repair

    restored = row("ShowMeTheMoney", payment_order_id=order_id)
    assert restored.pop("timestamp") and before.pop("timestamp")  # the writing time: the last event's, rebuilt
    assert restored == before
    assert row("BreakingTheBank", payment_order_id=order_id)["payment_status"] == {"S": "SUCCESS"}
    assert http("GET", f"{stack.api.url}/ledger/trial-balance", signer=stack.keys.operator)[1]["balanced"]


def test_replay_redelivers_what_a_consumer_missed_and_twice_changes_nothing(
    stack: Devstack, settled: dict[str, dict[str, Any]]
) -> None:
    events = client("events")
    [target] = events.list_targets_by_rule(Rule="wallet", EventBusName=BUS)["Targets"]
    started = datetime.now(UTC) - timedelta(seconds=1)
    events.remove_targets(Rule="wallet", EventBusName=BUS, Ids=[target["Id"]])  # the wallet's delivery is lost
    try:
        sent = drive(stack.api.url, stack.keys, 4, 2, seed=31, progress=False, mix=[("approve", 1.0)])
        final = settle(stack.api.url, stack.keys, sent, timeout_s=120)
    finally:
        events.put_targets(Rule="wallet", EventBusName=BUS, Targets=[target])
    missed = {i for i, body in final.items() if body["status"] == "SUCCESS"}
    assert missed
    wait_until(
        lambda: {
            m["payment_order_id"]
            for m in ops(stack, "reconcile", "--settle-seconds", "0")[1]["mismatches"]
            if m["pair"] == "finalizer/wallet"
        }
        == missed
    )

    window = ["--from", started.isoformat(), "--to", (datetime.now(UTC) + timedelta(seconds=1)).isoformat()]
    code, dry = ops(stack, "replay", *window, "--consumer", "wallet", "--dry-run")
    assert (code, dry["method"], dry["matched"], dry["sent"]) == (0, "event-stores", len(missed), 0)
    assert ops(stack, "replay", *window, "--consumer", "wallet")[1]["sent"] == len(missed)
    wait_until(lambda: ops(stack, "reconcile", "--settle-seconds", "0")[1]["mismatches"] == [])
    again = ops(stack, "replay", *window, "--consumer", "wallet")[1]  # again: each credit is still applied once
    assert again["sent"] == len(missed)
    wait_until_drained("wallet-inbox")  # every redelivered event has been processed
    assert ops(stack, "reconcile", "--settle-seconds", "0")[1]["mismatches"] == []


def test_reconcile_finds_a_mismatch_planted_in_each_pair(stack: Devstack, settled: dict[str, dict[str, Any]]) -> None:
    paid, declined = of_status(settled, "SUCCESS")[:2], of_status(settled, "FAILED")[:2]
    stores = {name: DynamoDBEventStore(client("dynamodb"), table) for name, table in EVENT_STORES.items()}
    # initializer/finalizer: the order shows FAILED, the finalizer decided SUCCESS.
    order = paid[0]["payment_order_id"]
    version = len(
        client("dynamodb").query(
            TableName="initializer-events",
            KeyConditionExpression="stream_id = :s",
            ExpressionAttributeValues={":s": {"S": f"payment-{order}"}},
        )["Items"]
    )
    stores["initializer"].append(
        f"payment-{order}",
        version,
        [
            NewEvent(
                "PaymentOutcomeRecorded",
                {"status": "FAILED", "error_message": "planted", "source_event_id": "planted"},
                correlation_id=order,
            )
        ],
    )
    # finalizer/psp: a SUCCESS charged a second time.
    charged_twice = paid[1]
    assert (
        charge_directly(
            stack.psp.url,
            stack.psp.api_key,
            charged_twice["payment_order_id"],
            charged_twice["amount_minor"],
            charged_twice["currency"],
        )
        == "succeeded"
    )
    # finalizer/ledger: a FAILED payment booked; finalizer/wallet: a FAILED payment credited.
    booked, credited = declined[0], declined[1]
    amount = {"amount_minor": booked["amount_minor"], "currency": booked["currency"]}
    stores["ledger"].append(
        f"journal-{booked['payment_order_id']}",
        0,
        [
            NewEvent(
                "JournalEntryPosted",
                {
                    "payment_order_id": booked["payment_order_id"],
                    "source_event_id": "planted",
                    "postings": [
                        {"account": "psp_clearing", "side": "DEBIT", **amount},
                        {"account": f"merchant_payable:{booked['merchant_id']}", "side": "CREDIT", **amount},
                    ],
                },
                correlation_id="planted",
            )
        ],
    )
    stores["wallet"].append(
        f"wallet-{credited['merchant_id']}#99",
        0,
        [
            NewEvent(
                "WalletCredited",
                {
                    "merchant_id": credited["merchant_id"],
                    "currency": credited["currency"],
                    "amount_minor": credited["amount_minor"],
                    "payment_order_id": credited["payment_order_id"],
                    "source_event_id": "planted",
                },
                correlation_id="planted",
            )
        ],
    )

    code, result = ops(stack, "reconcile", "--settle-seconds", "0")
    found = {(m["payment_order_id"], m["pair"]) for m in result["mismatches"]}
    assert code == 1 and found == {
        (order, "initializer/finalizer"),
        (charged_twice["payment_order_id"], "finalizer/psp"),
        (booked["payment_order_id"], "finalizer/ledger"),
        (credited["payment_order_id"], "finalizer/wallet"),
    }
    # ledger/psp: the second charge is in the PSP's balance, not our books; the planted entry the other way round
    # (unless the two are the same amount in the same currency: then they match and the totals agree).
    named = [p for d in result["psp_balance"] for p in d["problems"]]
    same = (charged_twice["amount_minor"], charged_twice["currency"]) == (booked["amount_minor"], booked["currency"])
    if not same:
        charge = f"the ledger has no charge of {charged_twice['amount_minor']} {charged_twice['currency']} (PSP ch_"
        entry = (
            f"the PSP has no charge of {booked['amount_minor']} {booked['currency']} "
            f"(ledger {booked['payment_order_id']})"
        )
        assert any(p.startswith(charge) for p in named) and entry in named, named
    # ... and the fee Stripe kept of that second charge, which no capture of the ledger carries.
    fee = "the ledger has no psp_fee of -"
    assert any(p.startswith(fee) and f" {charged_twice['currency']} (PSP ch_" in p for p in named), named
    # Within the settling window the same facts are in flight, not mismatches.
    assert ops(stack, "reconcile", "--settle-seconds", "600")[1]["mismatches"] == []
    assert ops(stack, "reconcile", "--settle-seconds", "600")[1]["psp_balance"] == []
