"""A credit on a wallet with 100,000 past events vs a credit on a new wallet (snapshots keep it flat).

Measured in memory and on moto: DynamoDB calls per credit and median time per credit; the figure of
merit is the ratio old/new. For contrast, the in-memory cost of rebuilding the old wallet by full replay.

moto deep-copies every table a transaction touches, once per item, so on moto a credit costs time in
proportion to the whole table (busy and new wallets alike). Its history is therefore smaller by default
(--moto-wallet-events); the DynamoDB call count, which is what a real table charges for, does not depend
on it.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from moto import mock_aws

from benchmarks.measure import median_ms
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import NewEvent, Snapshot
from payments_shared.eventstore.dynamodb import (
    PK,
    SK,
    SNAPSHOT,
    SNAPSHOT_VERSION,
    DynamoDBEventStore,
    event_item,
    table_definition,
)
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_testing.aws import CountingClient, aws_client, fake_credentials
from payments_testing.events import payment_status_updated
from payments_testing.stores import table
from wallet.adapters.dynamodb_balances import DynamoDBBalances
from wallet.adapters.memory_balances import InMemoryBalances
from wallet.app import WalletApp
from wallet.domain.streams import stream_id
from wallet.domain.wallet import DECIDER, WalletCredited, WalletShard
from wallet.entrypoints.credit import credit_command

BATCH = 98  # events per seeding append: 100 items less the version check and the snapshot


def past_credits(merchant_id: str, events: int) -> tuple[list[tuple[int, NewEvent]], Snapshot]:
    """`events` past credits of 0.01 EUR and the snapshot the app would have written with the last one."""
    credited = WalletCredited(merchant_id, "EUR", 1, "seed", "seed")
    history = [(version, NewEvent(credited.event_type, credited.data, "seed")) for version in range(1, events + 1)]
    wallet = DECIDER.fold(DECIDER.initial, [credited] * events)
    assert DECIDER.snapshot is not None
    return history, Snapshot(events, DECIDER.snapshot(wallet))


def seed_memory(store: InMemoryEventStore, merchant_id: str, events: int) -> None:
    history, snapshot = past_credits(merchant_id, events)
    for start in range(0, events, BATCH):
        batch = [event for _, event in history[start : start + BATCH]]
        last = start + len(batch) == events
        store.append(stream_id(merchant_id, 0), start, batch, snapshot=snapshot if last else None)


def seed_dynamodb(client: Any, table: str, merchant_id: str, events: int) -> None:
    """Bulk-load with BatchWriteItem: moto copies the whole table on every TransactWriteItems, so seeding
    100,000 events through appends would take hours there; the items are the ones an append writes."""
    history, snapshot = past_credits(merchant_id, events)
    stream = stream_id(merchant_id, 0)
    items = [event_item(stream, version, event) for version, event in history]
    items.append(
        {
            PK: stream,
            SK: SNAPSHOT_VERSION,
            "record_type": SNAPSHOT,
            "snapshot_version": snapshot.version,
            "state": json.dumps(snapshot.state, separators=(",", ":"), sort_keys=True),
        }
    )
    serializer = TypeSerializer()
    for start in range(0, len(items), 25):
        requests = [
            {"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in item.items() if v is not None}}}
            for item in items[start : start + 25]
        ]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def credit(app: WalletApp, merchant_id: str) -> None:
    """A credit as the wallet's consumer asks for it (the command built at its edge from the event)."""
    asked = credit_command(EventEnvelope.from_eventbridge_event(payment_status_updated(merchant_id, amount="1.00")))
    assert asked is not None
    app.credit(*asked)


def load(store: Any, merchant_id: str, use_snapshot: bool = True) -> WalletShard:
    """The wallet's shard 0 as a load folds it: from its snapshot (if used) and the events after it."""
    loaded = store.load(stream_id(merchant_id, 0), use_snapshot=use_snapshot)
    assert DECIDER.restore is not None
    state = DECIDER.restore(loaded.snapshot.state) if loaded.snapshot else DECIDER.initial
    return DECIDER.fold(state, (DECIDER.events.decode(e.event_type, e.data) for e in loaded.events))


def compare(app: WalletApp, old_merchant: str, runs: int, counter: CountingClient | None) -> dict[str, Any]:
    """Median time (and calls) of a credit on: the busy wallet; a new wallet (its first credit, which also
    skips the version check: one item less in the transaction); a young wallet (one past credit)."""

    def timed_credit(merchant: str, prepare: bool) -> tuple[float, int]:
        if prepare:
            credit(app, merchant)
        if counter is not None:
            counter.calls.clear()
        started = time.perf_counter()
        credit(app, merchant)
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, sum(counter.calls.values()) if counter is not None else 0

    def fresh() -> str:
        return f"new-{uuid.uuid4().hex[:12]}"

    samples: dict[str, list[tuple[float, int]]] = {"old": [], "new": [], "young": []}
    timed_credit(old_merchant, False), timed_credit(fresh(), False)  # warm both paths
    for _ in range(runs):
        samples["old"].append(timed_credit(old_merchant, False))
        samples["new"].append(timed_credit(fresh(), False))
        samples["young"].append(timed_credit(fresh(), True))
    result: dict[str, Any] = {}
    for name, values in samples.items():
        result[f"{name}_ms"] = statistics.median(v[0] for v in values)
        if counter is not None:
            result[f"{name}_calls"] = values[-1][1]
    result["time_ratio_vs_new"] = result["old_ms"] / result["new_ms"]
    result["time_ratio_vs_young"] = result["old_ms"] / result["young_ms"]
    if counter is not None:
        result["calls_ratio_vs_new"] = result["old_calls"] / result["new_calls"]
    return result


def run(events: int = 100_000, moto_events: int = 5_000, runs: int = 7) -> dict[str, Any]:
    memory = InMemoryEventStore()
    seed_memory(memory, "busy", events)
    # One shard: the benchmark is about one stream's length (a sharded wallet's streams are each shorter).
    memory_app = WalletApp(memory, InMemoryBalances("WalletBalances"), shards=1, fees=FeeSchedule())
    results: dict[str, Any] = {"past_events": events, "memory": compare(memory_app, "busy", runs, None)}

    def rebuild(use_snapshot: bool) -> WalletShard:
        return load(memory, "busy", use_snapshot)

    assert rebuild(True) == rebuild(False)  # snapshot + tail equals full replay
    replay_ms = median_ms(lambda: rebuild(False), 3)
    snapshot_ms = median_ms(lambda: rebuild(True), 3)
    results["memory"]["full_replay_load_ms"], results["memory"]["snapshot_load_ms"] = replay_ms, snapshot_ms

    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        dynamodb.create_table(**table_definition("wallet-events"))
        dynamodb.create_table(**table("WalletBalances", "merchant_id", "shard"))
        seed_dynamodb(dynamodb, "wallet-events", "busy", moto_events)
        counting = CountingClient(dynamodb)
        store = DynamoDBEventStore(counting, "wallet-events")
        app = WalletApp(store, DynamoDBBalances(counting, "WalletBalances"), shards=1, fees=FeeSchedule())
        results["moto"] = {"past_events": moto_events, **compare(app, "busy", runs, counting)}
        expected = Money(moto_events + (runs + 1) * 100, "EUR")  # seed + warm-up + timed credits
        assert load(store, "busy").balance("EUR") == expected
    return results
