"""Warm per-invocation overhead of instrumentation: each handler with in-memory adapters, fully
instrumented (OpenTelemetry SDK recording spans, JSON logger, EMF metrics) vs uninstrumented (no-op
tracer, logger and metrics silenced). Each mode runs in a fresh spawned process (a tracer provider can be
set once per process); figures are p50/p99 per handler and the ratio of medians."""

from __future__ import annotations

import io
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from contextlib import redirect_stdout
from typing import Any

from benchmarks.measure import percentile


def _invocations(invocations: int) -> dict[str, list[float]]:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from payments_shared.eventstore.memory import InMemoryEventStore
    from payments_shared.observability.tracing import configure_sdk
    from payments_testing.aws import LambdaContext, fake_credentials
    from payments_testing.cards import LocalCardCipher, LocalCardVault
    from payments_testing.events import eventbridge_delivery, payment_status_updated, sqs_delivery
    from payments_testing.http import TEST_CALLERS, api_event

    fake_credentials()
    if os.environ.get("BENCH_INSTRUMENTED") == "1":
        exporter = InMemorySpanExporter()
        configure_sdk(exporter)

    from finalizer import runtime as finalizer
    from finalizer.adapters.memory_results import InMemoryPaymentResults
    from finalizer.domain.payment import ChargeResult, PspDecision
    from finalizer.entrypoints import charge
    from initializer import runtime as initializer
    from initializer.adapters.memory_orders import InMemoryPaymentOrders
    from initializer.entrypoints import api as initializer_api
    from ledger import runtime as ledger
    from ledger.adapters.memory_accounts import InMemoryAccountTotals
    from ledger.entrypoints import post
    from wallet import runtime as wallet
    from wallet.adapters.memory_balances import InMemoryBalances
    from wallet.entrypoints import credit

    class ApprovingPsp:
        def charge(self, *args: Any) -> ChargeResult:
            return ChargeResult(PspDecision.APPROVED, "psp_1", None)

        def find(self, *args: Any) -> None:
            return None

    stores = {name: InMemoryEventStore() for name in ("initializer", "finalizer", "ledger", "wallet")}
    initializer.container.event_store.override(stores["initializer"])
    initializer.container.orders.override(InMemoryPaymentOrders("ShowMeTheMoney"))
    cards = LocalCardCipher()
    initializer.container.vault.override(LocalCardVault(cards))
    initializer.container.callers.override(TEST_CALLERS)
    finalizer.container.event_store.override(stores["finalizer"])
    finalizer.container.results.override(InMemoryPaymentResults("BreakingTheBank"))
    finalizer.container.psp.override(ApprovingPsp())
    finalizer.container.card_cipher.override(cards)
    ledger.container.event_store.override(stores["ledger"])
    ledger.container.totals.override(InMemoryAccountTotals("LedgerAccounts"))
    wallet.container.event_store.override(stores["wallet"])
    wallet.container.balances.override(InMemoryBalances("WalletBalances"))

    order = {
        "merchant_id": "merchant-1",
        "amount": "12.34",
        "currency": "EUR",
        "buyer_info": {"name": "A", "email": "a@example.com", "country": "GB"},
        "payment_details": {
            "card_number": "4242424242424242",
            "expiry_month": 12,
            "expiry_year": 2031,
            "cvv": "123",
            "holder_name": "A",
        },
    }

    def initiated() -> dict[str, Any]:
        order_id = str(uuid.uuid4())
        data = {
            "payment_order_id": order_id,
            "merchant_id": "m-1",
            "amount": "12.34",
            "amount_minor": 1234,
            "currency": "EUR",
            "card": {"brand": "visa", "last4": "4242", "fingerprint": "f"},
            "payment_details": cards.seal(
                {"card_number": "4242424242424242", "expiry_month": 12, "expiry_year": 2031}, order_id
            ),
        }
        detail = {
            "event_id": str(uuid.uuid4()),
            "event_type": "PaymentInitiated",
            "occurred_at": "2026-11-25T10:00:00+00:00",
            "aggregate_id": f"payment-{order_id}",
            "aggregate_version": 1,
            "correlation_id": order_id,
            "data": data,
        }
        return eventbridge_delivery(detail, "payments.initializer")

    cases = {
        "initializer POST /payments": (initializer_api.handler, lambda: api_event("POST", "/payments", order)),
        # Consumers take their events as one-record SQS batches, as their event source mappings deliver them.
        "finalizer PaymentInitiated": (charge.handler, lambda: sqs_delivery(initiated())),
        "ledger PaymentStatusUpdated": (post.handler, lambda: sqs_delivery(payment_status_updated())),
        "wallet PaymentStatusUpdated": (credit.handler, lambda: sqs_delivery(payment_status_updated())),
    }
    samples: dict[str, list[float]] = {}
    for name, (handler, make_event) in cases.items():
        events = [make_event() for _ in range(invocations + 20)]
        for event in events[:20]:
            handler(event, LambdaContext())
        timings = []
        for event in events[20:]:
            started = time.perf_counter()
            handler(event, LambdaContext())
            timings.append((time.perf_counter() - started) * 1e6)
        samples[name] = timings
    return samples


def _child(instrumented: bool, invocations: int, out: Any) -> None:
    # Loggers keep the stream they were built with: build them (at import) inside the redirect, so their
    # lines are formatted and written as in Lambda, just not shown.
    with redirect_stdout(io.StringIO()):
        out.put(_invocations(invocations))


def _measure(instrumented: bool, invocations: int) -> dict[str, list[float]]:
    env = {
        "BENCH_INSTRUMENTED": "1" if instrumented else "0",
        "POWERTOOLS_LOG_LEVEL": "INFO" if instrumented else "CRITICAL",
        "POWERTOOLS_METRICS_DISABLED": "false" if instrumented else "true",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        process = context.Process(target=_child, args=(instrumented, invocations, queue))
        process.start()
        result: dict[str, list[float]] = queue.get(timeout=600)
        process.join()
        return result
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(invocations: int = 500, rounds: int = 7) -> dict[str, Any]:
    """Alternate instrumented and plain processes `rounds` times; report medians of the per-round p50s."""
    per_round: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for _ in range(rounds):
        for instrumented in (True, False):
            mode = "instrumented" if instrumented else "plain"
            for name, timings in _measure(instrumented, invocations).items():
                per_round.setdefault(name, {}).setdefault(mode, []).append(
                    (statistics.median(timings), percentile(timings, 99))
                )
    result: dict[str, Any] = {}
    for name, modes in per_round.items():
        figures = {
            f"{mode}_{stat}_us": round(statistics.median(v[i] for v in values), 1)
            for mode, values in modes.items()
            for i, stat in enumerate(("p50", "p99"))
        }
        figures["ratio_p50"] = round(figures["instrumented_p50_us"] / figures["plain_p50_us"], 3)
        result[name] = figures
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 300, 3), indent=2))
