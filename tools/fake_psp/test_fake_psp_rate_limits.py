"""Stripe's 429s on the fake, through Stripe's own SDK: the error's shape, nothing executed or stored, per-endpoint
and per-account rates on the fake's clock, and what the SDK retries (a lock timeout, which Stripe asks to retry
with Stripe-Should-Retry: true) or not (a rate limit)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from fake_psp.rate_limits import RateLimits, endpoint
from fake_psp.server import API_KEY, FakePsp

CREATE = "POST /v1/payment_intents"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limits(clock: Clock) -> RateLimits:
    return RateLimits(endpoint_per_s=2, global_per_s=3, clock=clock)


@pytest.fixture
def psp(limits: RateLimits) -> Iterator[FakePsp]:
    running = FakePsp(rate_limits=limits).start()
    yield running
    running.stop()


def client(psp: FakePsp, retries: int = 2) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=retries)


def create(psp: FakePsp, key: str, retries: int = 2) -> stripe.PaymentIntent:
    params = {"amount": 1000, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"}
    return client(psp, retries).v1.payment_intents.create(params=params, options={"idempotency_key": key})  # type: ignore[arg-type]


def test_an_endpoint_is_a_named_operation_whatever_the_object() -> None:
    assert endpoint("GET", "/v1/payment_intents/pi_123?expand[]=x") == endpoint("get", "/v1/payment_intents/pi_9")
    assert endpoint("POST", "/v1/payment_intents") != endpoint("GET", "/v1/payment_intents/pi_1")
    assert endpoint("POST", "/v1/payment_intents/pi_1/capture") == "POST /v1/payment_intents/{id}/capture"


def test_a_rate_limited_request_is_a_429_with_stripes_error_and_nothing_executed(
    psp: FakePsp, limits: RateLimits
) -> None:
    limits.script("rate_limit")
    with pytest.raises(stripe.RateLimitError) as refused:
        create(psp, "k-429", retries=0)
    answer = refused.value
    assert answer.http_status == 429 and isinstance(answer.json_body, dict)
    error: dict[str, str] = answer.json_body["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "rate_limit"
    assert answer.headers is not None and answer.headers["Stripe-Rate-Limited-Reason"] == "global-rate"
    assert "Stripe-Should-Retry" not in answer.headers
    assert psp.intents["k-429"] == 0 and psp.requests["k-429"] == 0  # never executed, nothing stored
    assert create(psp, "k-429").status == "succeeded"  # the same key later runs afresh


def test_the_sdk_does_not_retry_a_rate_limit_on_its_own(psp: FakePsp, limits: RateLimits) -> None:
    # stripe-python's _should_retry: no Stripe-Should-Retry, and 429 is neither a 409 nor a 5xx.
    limits.script("rate_limit")
    with pytest.raises(stripe.RateLimitError):
        create(psp, "k-once", retries=2)
    assert limits.refused[CREATE] == 1 and limits.passed[CREATE] == 0


def test_the_sdk_retries_a_lock_timeout_stripe_asks_to_retry(psp: FakePsp, limits: RateLimits) -> None:
    limits.script("lock_timeout")
    assert create(psp, "k-lock", retries=2).status == "succeeded"
    assert limits.refused[CREATE] == 1 and limits.passed[CREATE] == 1 and psp.charges["k-lock"] == 1


def test_an_endpoints_rate_is_per_second_on_the_fakes_clock(psp: FakePsp, limits: RateLimits, clock: Clock) -> None:
    create(psp, "a")
    create(psp, "b")
    with pytest.raises(stripe.RateLimitError) as refused:
        create(psp, "c", retries=0)
    assert refused.value.http_status == 429 and psp.intents["c"] == 0
    assert refused.value.headers is not None and refused.value.headers["Stripe-Rate-Limited-Reason"] == "endpoint-rate"
    with pytest.raises(stripe.RateLimitError):
        create(psp, "a", retries=0)  # a replay is a request all the same: refused too within the second
    clock.now += 1.0
    assert create(psp, "c").status == "succeeded"


def test_the_accounts_rate_spans_its_endpoints(psp: FakePsp, limits: RateLimits, clock: Clock) -> None:
    created = create(psp, "a")
    stripe_client = client(psp, retries=0)
    stripe_client.v1.payment_intents.retrieve(created.id)
    stripe_client.v1.payment_intents.retrieve(created.id)  # three requests: the account's 3 per second
    with pytest.raises(stripe.RateLimitError) as refused:
        stripe_client.v1.refunds.list(params={"payment_intent": created.id})
    assert refused.value.headers is not None and refused.value.headers["Stripe-Rate-Limited-Reason"] == "global-rate"
    clock.now += 1.0
    assert stripe_client.v1.refunds.list(params={"payment_intent": created.id}).data == []


def test_a_share_of_requests_is_refused_at_random() -> None:
    limits = RateLimits(share=0.5, seed=7)
    answers = [limits.refuse("POST", "/v1/payment_intents") for _ in range(200)]
    refused = sum(answer is not None for answer in answers)
    assert 60 < refused < 140 and limits.refused[CREATE] == refused and limits.passed[CREATE] == 200 - refused
