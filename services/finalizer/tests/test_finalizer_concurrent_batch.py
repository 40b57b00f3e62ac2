"""A batch's records charged at once (FINALIZER_CHARGE_CONCURRENCY): each still its own decision, its own store
transaction and its own line in the partial batch response, whatever the others do and in whatever order."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from fake_psp import FakePsp
from finalizer_testdata import payment_initiated, stripe_on
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.domain.payment import ChargeResult, PspDecision
from finalizer.entrypoints import charge
from finalizer.ports import PspOutcomeUnknown, PspRequestRefused
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.events import deliver

Answer = Callable[[str], ChargeResult]


def approved(key: str) -> ChargeResult:
    return ChargeResult(PspDecision.APPROVED, f"pi_{key[:8]}", None)


def declined(key: str) -> ChargeResult:
    message = "card_declined: Your card was declined."
    return ChargeResult(PspDecision.DECLINED, f"pi_{key[:8]}", message, "card_declined")


def unknown(key: str) -> ChargeResult:
    raise PspOutcomeUnknown(f"no answer for {key}")


def refused(key: str) -> ChargeResult:
    raise PspRequestRefused(f"refused {key}")


class StubPsp:
    """The PSP port answering each order as planned (approved by default), counting the calls in flight."""

    def __init__(self, plan: dict[str, Answer] | None = None, jitter_s: float = 0.0, seed: int = 0) -> None:
        self.plan = plan or {}
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        self._jitter_s, self._random = jitter_s, random.Random(seed)

    def find(self, idempotency_key: str) -> ChargeResult | None:  # events older than the key retention ask first
        return None

    def charge(self, idempotency_key: str, *args: Any, **kwargs: Any) -> ChargeResult:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            pause = self._random.uniform(0, self._jitter_s)
        try:
            time.sleep(pause)  # shuffles the interleaving; nothing is asserted about time
            return self.plan.get(idempotency_key, approved)(idempotency_key)
        finally:
            with self._lock:
                self.in_flight -= 1


def order_id_of(event: dict[str, Any]) -> str:
    return str(event["detail"]["data"]["payment_order_id"])


def tokenized() -> dict[str, Any]:
    return payment_initiated(payment_method="pm_card_visa", card=None, payment_details=None)


def use(runtime: ModuleType, psp: Any) -> InMemoryEventStore:
    """A fresh store and results, and `psp`, under a fresh app (the app is one per process: rebuilt here)."""
    store = InMemoryEventStore()
    runtime.container.results.override(InMemoryPaymentResults())
    runtime.container.event_store.override(store)
    runtime.container.psp.override(psp)
    runtime.container.app.reset()
    return store


def statuses(store: InMemoryEventStore, events: list[dict[str, Any]]) -> list[str | None]:
    found = [store.load(f"payment-{order_id_of(e)}").events for e in events]
    return [str(stored[0].data["status"]) if stored else None for stored in found]


def test_a_hanging_psp_call_does_not_hold_back_the_batchs_other_records(runtime: ModuleType) -> None:
    events = [tokenized() for _ in range(10)]
    others_seen_recorded = threading.Event()
    store: InMemoryEventStore

    def hang_until_the_others_are_recorded(key: str) -> ChargeResult:
        # Charged one after another, the others would wait for this call: it gives up after 20 s and fails.
        give_up = time.monotonic() + 20
        while time.monotonic() < give_up:
            if all(statuses(store, events[1:])):
                others_seen_recorded.set()
                break
            time.sleep(0.01)
        raise PspOutcomeUnknown(f"{key}: the read timed out")

    store = use(runtime, StubPsp({order_id_of(events[0]): hang_until_the_others_are_recorded}))
    assert deliver(charge.build_handler(10), *events) == [0]
    assert others_seen_recorded.is_set()  # the nine were recorded while the first call still hung
    assert statuses(store, events) == [None] + ["SUCCESS"] * 9


def test_at_most_the_configured_number_of_records_are_charged_at_once(runtime: ModuleType) -> None:
    events = [tokenized() for _ in range(6)]
    wave = threading.Barrier(3, timeout=20)  # passes only when three charges are in flight together

    def in_a_wave_of_three(key: str) -> ChargeResult:
        wave.wait()
        return approved(key)

    psp = StubPsp(dict.fromkeys(map(order_id_of, events), in_a_wave_of_three))
    store = use(runtime, psp)
    assert deliver(charge.build_handler(3), *events) == []
    assert psp.most_in_flight == 3 and statuses(store, events) == ["SUCCESS"] * 6


def test_the_deployed_handler_charges_ten_at_once_by_default(runtime: ModuleType) -> None:
    events = [tokenized() for _ in range(10)]
    everyone = threading.Barrier(10, timeout=20)

    def all_together(key: str) -> ChargeResult:
        everyone.wait()
        return approved(key)

    store = use(runtime, StubPsp(dict.fromkeys(map(order_id_of, events), all_together)))
    assert deliver(charge.handler, *events) == []
    assert statuses(store, events) == ["SUCCESS"] * 10


OUTCOMES: dict[str, Answer | None] = {
    "approved": approved,
    "declined": declined,
    "unknown": unknown,
    "refused": refused,
    "malformed": None,  # refused by its contract before any charge
}
RECORDED = {"approved": "SUCCESS", "declined": "FAILED"}


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan=st.lists(st.sampled_from(sorted(OUTCOMES)), min_size=1, max_size=10),
    concurrency=st.integers(1, 10),
    seed=st.integers(0, 2**16),
)
def test_the_reported_failures_are_exactly_the_records_that_failed(
    runtime: ModuleType, plan: list[str], concurrency: int, seed: int
) -> None:
    events = [payment_initiated(amount="12.3") if outcome == "malformed" else tokenized() for outcome in plan]
    answers = {order_id_of(e): a for e, o in zip(events, plan, strict=True) if (a := OUTCOMES[o]) is not None}
    store = use(runtime, StubPsp(answers, jitter_s=0.003, seed=seed))
    reported = deliver(charge.build_handler(concurrency), *events)
    assert reported == [i for i, outcome in enumerate(plan) if outcome not in RECORDED]
    assert statuses(store, events) == [RECORDED.get(outcome) for outcome in plan]


def test_each_record_charged_at_once_keeps_its_own_trace(
    runtime: ModuleType, psp: FakePsp, spans: InMemorySpanExporter
) -> None:
    """OpenTelemetry's context is per thread: each record runs in a copy of the invocation's, so its consumer span,
    its `psp charge` and Stripe's HTTP span stay in the trace its event carried."""
    traces = [f"{i + 1:032x}" for i in range(4)]
    events = [payment_initiated(traceparent=f"00-{t}-b7ad6b7169203331-01") for t in traces]
    use(runtime, stripe_on(psp))
    assert deliver(charge.build_handler(4), *events) == []
    finished = spans.get_finished_spans()
    for event, trace_id in zip(events, traces, strict=True):
        mine = [s for s in finished if f"{s.context.trace_id:032x}" == trace_id]
        consumer = next(s for s in mine if s.kind == SpanKind.CONSUMER)
        psp_charge = next(s for s in mine if s.name == "psp charge")
        http = next(s for s in mine if s.name == "POST /v1/payment_intents")
        assert (psp_charge.attributes or {})["payment.order_id"] == order_id_of(event)
        assert http.parent is not None and http.parent.span_id == psp_charge.context.span_id
        assert (consumer.attributes or {})["payments.event_id"] == event["detail"]["event_id"]
