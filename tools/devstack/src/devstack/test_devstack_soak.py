"""The soak's bookkeeping from synthetic records: its arrival schedule, the budget it configures, and the checks
that fail it (a timeout, a 429, the budget exceeded in some second, a lost payment). No timing is asserted."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devstack.load import Sent
from devstack.report import Report
from devstack.runtime import Invocation
from devstack.soak import (
    Sample,
    Soak,
    TimedLimits,
    arrival_times,
    attach,
    budget_environment,
    final_times,
    growing,
    most_in_window,
    per_minute,
    timeouts,
)

START = 1_800_000_000.0


def invocation(function: str, error: str | None = None) -> Invocation:
    return Invocation(function, START, 10.0, error, cold=False)


def accepted(n: int) -> list[Sent]:
    return [Sent("approve", 201, {"payment_order_id": f"o-{i}"}, 5.0) for i in range(n)]


def soak(**kwargs: object) -> Soak:
    return Soak(rate_per_s=2.0, duration_s=60.0, budget_per_s=20, start=START, **kwargs)  # type: ignore[arg-type]


def report() -> Report:
    return Report(
        payments=0, http_status={}, final_status={}, latency_ms={}, cold_starts={}, init_ms={}, dlq_messages={},
        lost=[], wrong_outcomes=[], psp_charges_over_one=0, ledger_balanced=True, ledger_payables_match=True,
        wallets_match=True,
    )  # fmt: skip


def test_arrivals_are_paced_at_the_rate_over_the_duration() -> None:
    # Given 4 payments/s for 2.5 s, when scheduled, then 10 arrivals a quarter second apart from 0
    times = arrival_times(4, 2.5)
    assert times == [i * 0.25 for i in range(10)]
    with pytest.raises(ValueError, match="above 0"):
        arrival_times(0, 10)


@given(st.floats(0.5, 200), st.floats(1, 600))
def test_an_open_loop_schedule_never_falls_behind_its_rate(rate: float, duration: float) -> None:
    times = arrival_times(rate, duration)
    # Then the i-th payment is due at i / rate whatever came before it, and none is due after the duration
    assert len(times) == int(rate * duration)
    assert all(t == i / rate for i, t in enumerate(times))
    assert all(t < duration for t in times)


def test_the_finalizers_budget_is_divided_among_the_mappings_environments_as_terraform_does() -> None:
    env = budget_environment(20, 10, charge_concurrency=5)
    assert env["STRIPE_REQUESTS_PER_S"] == "2.0"
    assert env["STRIPE_REQUEST_BURST"] == "5"  # a batch's records start together
    assert env["FINALIZER_CHARGE_CONCURRENCY"] == "5"


def test_the_most_requests_in_any_second_is_a_sliding_window() -> None:
    # Given 3 requests late in one second and 3 early in the next: 6 within one second, though no clock second has 6
    times = [START + 0.7, START + 0.8, START + 0.9, START + 1.1, START + 1.2, START + 1.3]
    assert most_in_window(times) == 6
    # A request exactly a second after another falls in the next window
    assert most_in_window([START, START + 1.0]) == 1
    assert most_in_window([]) == 0


def test_timeouts_are_counted_per_function_and_other_errors_are_not() -> None:
    runs = [
        invocation("finalizer", "Sandbox.Timedout: Task timed out after 36.00 seconds"),
        invocation("finalizer", "Sandbox.Timedout: Task timed out after 36.00 seconds"),
        invocation("ledger", "Sandbox.Timedout: Task timed out after 36.00 seconds"),
        invocation("finalizer", "PspUnavailable: 503"),
        invocation("wallet"),
    ]
    assert timeouts(runs) == {"finalizer": 2, "ledger": 1}


def test_a_clean_soak_passes_with_its_figures() -> None:
    # Given 4 accepted payments, 4 PSP requests a second apart, no timeouts, a queue that drained
    run = soak(accepted_at=[START, START + 0.5, START + 61, START + 61.5])
    run.samples = [Sample(START + 5, {"finalizer": 3}, 0.5), Sample(START + 65, {"finalizer": 0}, 0.7)]
    requests = [(START + i, "POST /v1/payment_intents", False) for i in range(4)]
    finals = [(START - 5, 9000.0), (START + 2, 800.0), (START + 3, 900.0), (START + 62, 700.0), (START + 63, 1000.0)]
    figures = run.summary(accepted(4), [], [invocation("finalizer")], requests, finals)
    # Then nothing is wrong, and the minutes are counted from the first arrival (the warm-up's final before it is not)
    assert figures["problems"] == []
    assert figures["accepted_per_minute"] == [2, 2]
    assert figures["final_per_minute"] == [2, 2]
    assert figures["backlog_max_per_minute"] == [3, 0]
    assert figures["psp_most_per_s"] == 1
    assert figures["time_to_final_p50_per_minute"] == [800.0, 700.0]
    assert figures["sustained"] is True
    assert attach(report(), figures).ok


def test_a_timeout_a_429_the_budget_exceeded_or_a_lost_payment_fails_the_soak() -> None:
    # Given a finalizer batch that timed out, a 429, 21 requests within one second against a budget of 20/s
    run = soak(accepted_at=[START])
    requests = [(START + i / 100, "POST /v1/payment_intents", i == 0) for i in range(21)]
    timed_out = invocation("finalizer", "Sandbox.Timedout: Task timed out after 36.00 seconds")
    figures = run.summary(accepted(1), ["o-0"], [timed_out], requests, [])
    # Then each is a problem of its own, and the run's RESULT fails with them
    problems = figures["problems"]
    assert len(problems) == 4
    assert any("not final" in p for p in problems)
    assert any("finalizer: 1 invocations timed out" in p for p in problems)
    assert any("429" in p for p in problems)
    assert any("21 PSP requests in one second" in p for p in problems)
    done = attach(report(), figures)
    assert not done.ok
    assert "RESULT                 FAILED" in done.render()
    assert "  soak: " in done.render()


def test_the_budget_reached_but_not_exceeded_passes() -> None:
    requests = [(START + i / 100, "POST /v1/payment_intents", False) for i in range(20)]
    assert soak().summary([], [], [], requests, [])["problems"] == []


def test_a_growing_backlog_or_wait_is_not_sustained() -> None:
    assert growing([10, 40, 90], slack=4)
    assert not growing([10, 12, 14], slack=4)
    run = soak()
    run.samples = [Sample(START + 60 * m + 5, {"finalizer": depth}, 1.0) for m, depth in enumerate([5, 30, 80])]
    assert run.summary([], [], [], [], [])["sustained"] is False


def test_time_to_final_is_read_from_the_outcome_consumers_emf_lines() -> None:
    line = {
        "_aws": {"Timestamp": 1_800_000_002_000, "CloudWatchMetrics": []},
        "service": "initializer",
        "TimeToFinalStatus": [812.5, 900.0],
    }
    single = {**line, "TimeToFinalStatus": 700.0}
    lines = [json.dumps(line), "not json TimeToFinalStatus", '{"message": "other"}', json.dumps(single)]
    assert final_times(lines) == [(START + 2, 812.5), (START + 2, 900.0), (START + 2, 700.0)]
    assert per_minute([START + 1, START + 59, START + 61, START + 200], START) == [2, 1, 0, 1]


def test_the_fake_psps_limits_keep_when_each_request_came_and_whether_it_was_refused() -> None:
    # Given a sandbox's 2 requests/s on the fake's frozen clock, 3 requests at once
    limits = TimedLimits(wall=lambda: START, global_per_s=2, clock=lambda: 0.0)
    answers = [limits.refuse("POST", "/v1/payment_intents") for _ in range(3)]
    # Then the third is refused with Stripe's 429, and all three are recorded
    assert [a is None for a in answers] == [True, True, False]
    assert answers[2] is not None and answers[2][0] == 429
    assert limits.seen == [
        (START, "POST /v1/payment_intents", False),
        (START, "POST /v1/payment_intents", False),
        (START, "POST /v1/payment_intents", True),
    ]
