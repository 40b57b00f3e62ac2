"""The fake PSP's latency models: none by default, fixed is fixed, the Stripe-like one's percentiles for a seed
(a stated assumption: Stripe publishes no latency figures), and the server applying and recording them."""

from __future__ import annotations

import random
import statistics

import pytest
import stripe

from fake_psp.latency import CAP_S, CHARGE, READ, Fixed, Latency, StripeLike, parse
from fake_psp.server import API_KEY, FakePsp

CREATE = ("POST", "/v1/payment_intents")
RETRIEVE = ("GET", "/v1/payment_intents/pi_123")


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def test_no_model_adds_nothing_and_is_the_default() -> None:
    assert parse(None).delay(*CREATE) == 0.0 and parse("none").delay(*RETRIEVE) == 0.0
    assert type(FakePsp().latency) is Latency


def test_fixed_is_the_same_for_every_request() -> None:
    fixed = parse("fixed:300")
    assert isinstance(fixed, Fixed) and fixed.spec == "fixed:300"
    assert {fixed.delay(*request) for request in (CREATE, RETRIEVE, ("POST", "/v1/refunds"))} == {0.3}


@pytest.mark.parametrize("spec", ["fixed:", "fixed:abc", "fixed:-1", "lognormal", "stripe:2"])
def test_a_bad_spec_is_refused_by_name(spec: str) -> None:
    with pytest.raises(ValueError, match="latency|fixed"):
        parse(spec)


def test_stripe_like_charges_are_near_their_stated_median_and_p99_for_a_seed() -> None:
    model = StripeLike(seed=7)
    charges = [model.delay(*CREATE) for _ in range(20_000)]
    assert 0.9 * CHARGE.median_s < statistics.median(charges) < 1.1 * CHARGE.median_s
    assert 0.8 * CHARGE.p99_s < percentile(charges, 99) < 1.2 * CHARGE.p99_s
    assert max(charges) <= CAP_S  # the model never outlasts a client's read timeout on its own


def test_stripe_like_reads_are_faster_than_charges() -> None:
    model = StripeLike(seed=7)
    reads = [model.delay(*RETRIEVE) for _ in range(20_000)]
    assert 0.9 * READ.median_s < statistics.median(reads) < 1.1 * READ.median_s
    assert model.distribution("POST", "/v1/payment_intents/pi_1/capture") is CHARGE
    assert model.distribution("GET", "/v1/refunds/re_1") is READ


def test_the_same_seed_draws_the_same_delays() -> None:
    first, again, other = StripeLike(seed=3), StripeLike(seed=3), StripeLike(seed=4)
    drawn = [first.delay(*CREATE) for _ in range(50)]
    assert drawn == [again.delay(*CREATE) for _ in range(50)]
    assert drawn != [other.delay(*CREATE) for _ in range(50)]


def test_the_server_answers_after_the_models_delay_and_records_each_answer_per_endpoint() -> None:
    psp = FakePsp(latency=Fixed(50)).start()
    try:
        client = stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)
        params = {"amount": 1000, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"}
        intent = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k-lat"})  # type: ignore[arg-type]
        client.v1.payment_intents.retrieve(intent.id)
    finally:
        psp.stop()
    answered = psp.answer_seconds
    assert set(answered) == {"POST /v1/payment_intents", "GET /v1/payment_intents/{id}"}
    assert all(len(seconds) == 1 and seconds[0] >= 0.05 for seconds in answered.values())  # at least the delay


@pytest.mark.parametrize("draws", [1, 2, 10])
def test_the_expected_slowest_of_n_charges_is_what_draws_give(draws: int) -> None:
    rng = random.Random(11)
    slowest = [max(CHARGE.draw(rng) for _ in range(draws)) for _ in range(20_000)]
    assert CHARGE.expected_slowest(draws) == pytest.approx(statistics.fmean(slowest), rel=0.03)


def test_charges_made_at_once_wait_for_the_slowest_far_above_the_median() -> None:
    # A batch of 10 charged at once lasts its slowest charge: about three medians, not one.
    assert CHARGE.expected_slowest(1) > CHARGE.median_s
    assert 3 * CHARGE.median_s < CHARGE.expected_slowest(10) < CHARGE.p99_s
    assert [CHARGE.expected_slowest(n) for n in (1, 2, 5, 10)] == sorted(
        CHARGE.expected_slowest(n) for n in (1, 2, 5, 10)
    )
