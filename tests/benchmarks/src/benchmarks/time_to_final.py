"""Time to final status against the PSP's own latency: from POST /payments to the moment GET /payments/{id}
shows SUCCESS or FAILED, p50/p95/p99, on the local stack with the fake PSP answering with the Stripe-like
distribution (fake_psp.latency: charges lognormal, median 400 ms, p99 2 s — an assumption, Stripe publishes no
latency figures) and with a fixed 300 ms, in one run. Each as a ratio to the PSP's own charge latency in the
same stack: the machine is noisy, the ratios travel; the overhead (time to final minus the PSP) is what the
system's hops add (relay, bus, queues, the outcome consumer), with no batching window on the buyer's path
(contracts/consumers.json).

Arrivals are paced, open loop, at RATE_PER_S (below what this machine's stack sustains: the soak's 1/s) after the
soak's warm-up: a burst into a cold stack measures its backlog, not the path (60 payments sent at once measured a
p50 of 24-28 s whatever the PSP's latency). The final moment is the order's own recorded outcome
(devstack.time_to_final), not a poll. Only orders the system alone settles (approvals, declines, refusals). No
timing assertion: the figures are printed and recorded.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from devstack.load import settle
from devstack.moto_local import client
from devstack.soak import Soak, drive_open_loop, warm_up
from devstack.stack import Devstack
from devstack.time_to_final import summary, waits_ms

LATENCIES = ("stripe", "fixed:300")
RATE_PER_S = 1.0


def one(latency: str, payments: int, seed: int) -> dict[str, Any]:
    """One stack with the PSP answering per `latency`: the summary of devstack.time_to_final, and the overheads."""
    with tempfile.TemporaryDirectory() as directory:
        stack = Devstack(api_port=0, psp_503_rate=0.0, psp_latency=latency, logs=Path(directory) / "lambda.jsonl")
        try:
            warm_up(stack.api.url, stack.keys, seed, 240)
            paced = Soak(rate_per_s=RATE_PER_S, duration_s=payments / RATE_PER_S, budget_per_s=0, start=0)
            sent = drive_open_loop(stack.api.url, stack.keys, paced, seed, progress=False)
            settle(stack.api.url, stack.keys, sent, 240)
            figures = summary(waits_ms(client("dynamodb"), sent), stack.psp.answer_seconds, latency)
        finally:
            stack.stop()
    for p in (50, 95, 99):
        final, psp = figures[f"p{p}_ms"], figures[f"psp_p{p}_ms"]
        figures[f"p{p}_overhead_ms"] = round(final - psp, 1) if final is not None and psp is not None else None
    return figures


def run(payments: int = 60, seed: int = 13) -> dict[str, Any]:
    """Each latency model in a process of its own (the services' containers bind to one local stack for their
    process's life), one after the other on the same machine."""
    spawn = multiprocessing.get_context("spawn")
    results: dict[str, Any] = {}
    for latency in LATENCIES:
        with ProcessPoolExecutor(1, mp_context=spawn, max_tasks_per_child=1) as pool:
            try:
                results[latency] = pool.submit(one, latency, payments, seed).result()
            except Exception as failed:  # noqa: BLE001 - e.g. the API timing out on a swamped machine: say so, go on
                results[latency] = {"error": f"{type(failed).__name__}: {failed}"}
        print(f"  time_to_final {latency}: {json.dumps(results[latency])}", file=sys.stderr, flush=True)
    return {"payments": payments, "rate_per_s": RATE_PER_S, **results}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
