"""Contention: what a busy merchant and concurrent postings cost on a store as strict as DynamoDB.

The in-memory event store is given DynamoDB's timing (a read takes READ_S, a transaction holds its items
for TRANSACTION_S and cancels any other that touches one of them meanwhile), and WORKERS threads play the
concurrent Lambda invocations. Figures, all from the same run:
- 200 credits to one merchant vs 200 credits spread over 200 merchants: throughput ratio (goal >= 0.5),
  lost races per credit, p99 credit latency;
- 200 concurrent ledger postings: transactions cancelled because two postings touched a common item
  (goal 0), and the totals projection that then adds them up.
"""

from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.measure import percentile
from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.app import LedgerApp
from ledger.domain.streams import journal_stream
from ledger.entrypoints.post import post_commands
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import ConcurrencyConflict, StoreUnavailable
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.fees import FeeSchedule
from payments_testing.events import payment_status_updated
from wallet.adapters.memory_balances import InMemoryBalances
from wallet.app import WalletApp
from wallet.entrypoints.credit import credit_command

WORKERS = 16
READ_S = 0.004  # a strongly consistent GetItem
TRANSACTION_S = 0.012  # a TransactWriteItems of a few items


def strict_store() -> InMemoryEventStore:
    return InMemoryEventStore(transaction_seconds=TRANSACTION_S, read_seconds=READ_S)


def _credits(merchants: list[str]) -> dict[str, Any]:
    store = strict_store()
    app = WalletApp(store, InMemoryBalances("WalletBalances"), fees=FeeSchedule())
    events = [EventEnvelope.from_eventbridge_event(payment_status_updated(m, amount="1.00")) for m in merchants]
    latencies: list[float] = []
    lost_races: list[int] = []  # per credit: attempts that lost a race before the one that committed
    redeliveries: list[EventEnvelope] = []

    def credit(envelope: EventEnvelope) -> None:
        started = time.perf_counter()
        asked = credit_command(envelope)  # the consumer's edge: the contract validated, the command built
        assert asked is not None
        while True:  # the queue redelivers a message whose retries ran out
            try:
                lost_races.append(app.credit(*asked).conflicts)
                break
            except (ConcurrencyConflict, StoreUnavailable):
                redeliveries.append(envelope)
        latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(credit, events))
    seconds = time.perf_counter() - started
    credited = sum(sum(app.balances(m)["balances"].values()) for m in set(merchants))
    if credited != 100 * len(merchants):
        raise AssertionError(f"credited {credited} minor units, expected {100 * len(merchants)}")
    return {
        "credits_per_s": len(merchants) / seconds,
        "lost_races_per_credit": sum(lost_races) / len(merchants),
        "transaction_conflicts_per_credit": store.conflicts / len(merchants),
        "redeliveries": len(redeliveries),
        "p99_ms": percentile(latencies, 99),
    }


def _postings(count: int) -> dict[str, Any]:
    store = strict_store()
    app = LedgerApp(store, InMemoryAccountTotals("LedgerAccounts"), FeeSchedule(290, {"EUR": 30}))
    events = [
        EventEnvelope.from_eventbridge_event(payment_status_updated(f"m-{n % 20}", amount="10.00"))
        for n in range(count)
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        commands = [(command, cause) for commands, cause in map(post_commands, events) for command in commands]
        posted = [entry for entry in pool.map(lambda asked: app.post(*asked), commands) if entry]
    seconds = time.perf_counter() - started
    posting_conflicts = store.conflicts
    # The totals projection: one stream shard, in order, as the ledger-totals function reads it.
    journal = [store.load(journal_stream(e.data["payment_order_id"])).events[0] for e in events]
    projected_at = time.perf_counter()
    for entry in journal:
        app.add_to_totals(entry)
    projection_seconds = time.perf_counter() - projected_at
    balance = app.trial_balance()
    if len(posted) != count or not balance.is_balanced() or balance.totals()["EUR"][0] != 1000 * count:
        raise AssertionError(f"postings: {len(posted)} of {count}, balanced {balance.is_balanced()}")
    return {
        "postings_per_s": count / seconds,
        "conflicts_per_posting_on_shared_items": posting_conflicts / count,
        "totals_projection_entries_per_s": count / projection_seconds,
    }


def run(credits: int = 200, runs: int = 7) -> dict[str, Any]:
    """Medians over `runs` rounds; each round measures the hot and the spread case back to back."""
    rounds = []
    for _ in range(runs):
        hot = _credits(["merchant-hot"] * credits)
        spread = _credits([f"merchant-{uuid.uuid4().hex[:8]}" for _ in range(credits)])
        rounds.append({"hot": hot, "spread": spread, "ratio": hot["credits_per_s"] / spread["credits_per_s"]})
    postings = [_postings(credits) for _ in range(runs)]

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    return {
        "workers": WORKERS,
        "credits": credits,
        "transaction_ms": TRANSACTION_S * 1000,
        "read_ms": READ_S * 1000,
        "one_merchant_vs_spread_throughput_ratio": median([r["ratio"] for r in rounds]),
        **{
            f"{case}_{key}": median([r[case][key] for r in rounds])
            for case in ("hot", "spread")
            for key in rounds[0][case]
        },
        **{f"ledger_{key}": median([p[key] for p in postings]) for key in postings[0]},
    }
