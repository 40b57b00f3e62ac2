"""Stripe's 429s and the request budget: a rate-limited charge is not retried by the SDK (Stripe sends no
Stripe-Should-Retry on it) and waits for the queue's redelivery, nothing recorded; a lock timeout Stripe asks to
retry is retried at once; the per-environment budget never lets more requests out than its rate allows."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from fake_psp import FakePsp, RateLimits
from finalizer_testdata import payment_initiated
from hypothesis import given
from hypothesis import strategies as st

from finalizer.adapters.request_budget import RequestBudget
from finalizer.adapters.stripe_psp import StripePsp
from finalizer.entrypoints import charge
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.events import deliver

CREATE = "POST /v1/payment_intents"


def order_id_of(event: dict[str, Any]) -> str:
    return str(event["detail"]["data"]["payment_order_id"])


def status_of(store: InMemoryEventStore, event: dict[str, Any]) -> str | None:
    stored = store.load(f"payment-{order_id_of(event)}").events
    return str(stored[0].data["status"]) if stored else None


def test_a_rate_limited_charge_is_not_retried_by_the_sdk_and_waits_for_the_redelivery(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    psp.rate_limits = limits = RateLimits()
    limits.script("rate_limit", on=CREATE)
    event = payment_initiated()
    assert deliver(charge.handler, event) == [0]  # an unknown outcome: back to the queue, never a decline
    assert limits.refused[CREATE] == 1 and limits.passed[CREATE] == 0  # one request: the SDK did not retry it
    assert status_of(store, event) is None and psp.intents[order_id_of(event)] == 0
    assert deliver(charge.handler, event) == []  # the queue's redelivery, later
    assert status_of(store, event) == "SUCCESS" and psp.charges[order_id_of(event)] == 1


def test_a_lock_timeout_stripe_asks_to_retry_is_retried_in_the_same_delivery(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    psp.rate_limits = limits = RateLimits()
    limits.script("lock_timeout", on=CREATE)  # 429 with Stripe-Should-Retry: true
    event = payment_initiated()
    assert deliver(charge.handler, event) == []
    assert limits.refused[CREATE] == 1 and limits.passed[CREATE] == 1
    assert status_of(store, event) == "SUCCESS" and psp.charges[order_id_of(event)] == 1


def test_a_request_beyond_the_budget_is_not_sent_and_the_record_is_redelivered(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    spent = RequestBudget(per_second=0.001, burst=1, max_wait_s=0.0)
    assert spent.take()  # its one token gone
    runtime.container.psp.override(StripePsp(lambda: psp.api_key, api_base=psp.url, budget=spent))
    event = payment_initiated()
    assert deliver(charge.handler, event) == [0]
    assert sum(psp.requests.values()) == 0 and spent.refused == 1  # nothing reached Stripe
    assert status_of(store, event) is None


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_budget_lets_a_burst_through_then_one_request_per_token() -> None:
    time = FakeTime()
    budget = RequestBudget(per_second=2, burst=3, max_wait_s=1.0, clock=time.clock, sleep=time.sleep)
    assert [budget.take() for _ in range(3)] == [True] * 3 and time.now == 0  # the burst, no wait
    assert budget.take() and time.now == pytest.approx(0.5)  # then a token every 1/2 s
    assert budget.take() and time.now == pytest.approx(1.0)


def test_a_request_that_would_wait_longer_than_allowed_is_refused_at_once() -> None:
    time = FakeTime()
    budget = RequestBudget(per_second=0.5, burst=1, max_wait_s=1.0, clock=time.clock, sleep=time.sleep)
    assert budget.take()
    assert not budget.take() and time.now == 0 and budget.refused == 1  # a token is 2 s away: not waited for


@given(
    per_second=st.floats(0.5, 50),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=60),
)
def test_requests_granted_never_exceed_the_burst_plus_the_rate_times_the_time(
    per_second: float, burst: int, gaps: list[float]
) -> None:
    time = FakeTime()
    budget = RequestBudget(per_second, burst, max_wait_s=0.5, clock=time.clock, sleep=time.sleep)
    granted = 0
    for gap in gaps:
        time.now += gap
        granted += budget.take()
        assert granted <= burst + per_second * time.now + 1e-6
