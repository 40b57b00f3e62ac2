"""Finalizer throughput (issue 32): the charge consumer's real handler, in-process, against a PSP port that answers
after a fixed latency L, at 1, 5 and 20 batches in flight (each its own handler, as each batch has its own Lambda
execution environment), with a 300 ms and a 2 s PSP.

Predicted: batches * records / (ceil(records / concurrency) * L) payments per second (the store in memory adds
little). Measured: payments recorded / wall time. Printed as figures and as measured / predicted, all from the same
run; the sequential handler (concurrency 1, as before) at 300 ms alongside, for the gain. No timing assertions.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

from payments_testing.events import eventbridge_delivery, sqs_delivery

RECORDS = 10  # contracts/consumers.json's batch size
LATENCIES_S = (0.3, 2.0)
IN_FLIGHT = (1, 5, 20)


class LatencyPsp:
    """The PSP port: approves every charge after `latency_s` (a card that Stripe approves)."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.calls = 0
        self._lock = threading.Lock()

    def find(self, idempotency_key: str) -> Any:
        return None

    def charge(self, idempotency_key: str, *args: Any, **kwargs: Any) -> Any:
        from finalizer.domain.payment import ChargeResult, PspDecision

        time.sleep(self.latency_s)
        with self._lock:
            self.calls += 1
        return ChargeResult(PspDecision.APPROVED, f"pi_{idempotency_key[:12]}", None)


def _payment_initiated() -> dict[str, Any]:
    order_id = str(uuid.uuid4())
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    detail = {
        "event_id": str(uuid.uuid4()),
        "event_type": "PaymentInitiated",
        "schema_version": 1,
        "occurred_at": now,
        "aggregate_id": f"payment-{order_id}",
        "aggregate_version": 1,
        "correlation_id": order_id,
        "causation_id": None,
        "trace": {"traceparent": None, "tracestate": None},
        "data": {
            "payment_order_id": order_id,
            "merchant_id": "merchant-1",
            "amount": "12.34",
            "amount_minor": 1234,
            "currency": "EUR",
            "buyer_country": "GB",
            "card": None,
            "payment_details": None,
            "payment_method": "pm_card_visa",
            "request_fingerprint": "r",
            "created_at": now,
        },
    }
    return eventbridge_delivery(detail, "payments.initializer")


def _measure(runtime: ModuleType, in_flight: int, latency_s: float, concurrency: int, rounds: int) -> dict[str, Any]:
    from finalizer.adapters.memory_results import InMemoryPaymentResults
    from finalizer.entrypoints import charge
    from payments_shared.eventstore.memory import InMemoryEventStore
    from payments_shared.lambda_entry.queue import queue_entry
    from payments_testing.aws import LambdaContext

    psp = LatencyPsp(latency_s)
    store = InMemoryEventStore()
    runtime.container.event_store.override(store)
    runtime.container.results.override(InMemoryPaymentResults())
    runtime.container.psp.override(psp)
    runtime.container.app.reset()
    # One handler per execution environment (its own pool); no after_each: metrics are not what is measured.
    handlers = [
        queue_entry(charge._charge, logger=charge.logger, metrics=charge.metrics, concurrency=concurrency)
        for _ in range(in_flight)
    ]
    batches = [[sqs_delivery(*(_payment_initiated() for _ in range(RECORDS))) for _ in range(rounds)] for _ in handlers]
    failures: list[Any] = []

    def environment(index: int) -> None:
        for batch in batches[index]:
            failures.extend(handlers[index](batch, LambdaContext())["batchItemFailures"])

    started = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(environment, range(in_flight)))
    elapsed = time.perf_counter() - started
    payments = in_flight * rounds * RECORDS
    predicted = in_flight * RECORDS / (math.ceil(RECORDS / concurrency) * latency_s)
    measured = (payments - len(failures)) / elapsed
    return {
        "payments": payments,
        "failed": len(failures),
        "predicted_per_s": predicted,
        "measured_per_s": measured,
        "measured_to_predicted": measured / predicted,
    }


def run(rounds: int) -> dict[str, Any]:
    from payments_testing.fixtures import real_runtime

    with real_runtime("finalizer") as runtime:
        from finalizer.entrypoints import charge

        concurrency = int(runtime.container.config.charge_concurrency())
        level = charge.logger.log_level
        charge.logger.setLevel("WARNING")  # a line per payment is not what is measured
        try:
            results: dict[str, Any] = {"records_per_batch": RECORDS, "charge_concurrency": concurrency}
            for latency_s in LATENCIES_S:
                for in_flight in IN_FLIGHT:
                    key = f"psp_{int(latency_s * 1000)}ms_{in_flight}_batches"
                    results[key] = _measure(runtime, in_flight, latency_s, concurrency, rounds)
            sequential = _measure(runtime, 5, LATENCIES_S[0], 1, 1)
            results["psp_300ms_5_batches_sequential"] = sequential
            results["concurrent_to_sequential_throughput_at_300ms_5_batches"] = (
                results["psp_300ms_5_batches"]["measured_per_s"] / sequential["measured_per_s"]
            )
            return results
        finally:
            charge.logger.setLevel(level)
