"""The retry schedule: one source for the waits and the queue's maxReceiveCount, ~3 days like Stripe's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.delivery.health import HEALTHY, MAX_COOLDOWN_S
from notifier.delivery.schedule import INVOCATION_MARGIN_S, MAX_VISIBILITY_S, RetrySchedule, load

SCHEDULE = load()
DAY = 86_400


def test_the_schedule_runs_about_three_days_in_steps_of_at_most_twelve_hours() -> None:
    # Stripe: "In live mode, Stripe attempts to deliver your webhooks for up to three days with an exponential back off"
    assert 2.5 * DAY <= SCHEDULE.total_s() <= 3.5 * DAY
    assert SCHEDULE.delays_s[:6] == (60, 300, 1800, 7200, 18000, 36000)
    assert all(step <= 12 * 3600 for step in SCHEDULE.delays_s)


def test_max_receive_count_is_the_number_of_attempts() -> None:
    assert SCHEDULE.max_receive_count == len(SCHEDULE.delays_s) + 1
    with pytest.raises(ValueError, match="number of attempts"):
        RetrySchedule((60, 300), max_receive_count=5)


@given(count=st.integers(min_value=1, max_value=SCHEDULE.max_receive_count - 2))
def test_waits_never_shrink_and_stay_inside_sqs_visibility_limit(count: int) -> None:
    now, after = SCHEDULE.retry_in(count), SCHEDULE.retry_in(count + 1)
    assert now is not None and after is not None
    assert now <= after <= MAX_VISIBILITY_S - INVOCATION_MARGIN_S


@given(count=st.integers(min_value=SCHEDULE.max_receive_count, max_value=10_000))
def test_after_the_last_attempt_there_is_no_wait_the_queue_parks_it(count: int) -> None:
    assert SCHEDULE.retry_in(count) is None


def test_the_applied_waits_add_up_to_the_schedule_within_the_visibility_margin() -> None:
    applied = [SCHEDULE.retry_in(n) for n in range(1, SCHEDULE.max_receive_count)]
    assert None not in applied
    steps_at_cap = sum(1 for d in SCHEDULE.delays_s if d > MAX_VISIBILITY_S - INVOCATION_MARGIN_S)
    assert sum(a for a in applied if a) == SCHEDULE.total_s() - steps_at_cap * INVOCATION_MARGIN_S


@given(scale=st.floats(min_value=0.0001, max_value=1.0))
def test_a_local_scale_shortens_every_wait_but_keeps_the_attempts(scale: float) -> None:
    local = load(scale)
    assert local.max_receive_count == SCHEDULE.max_receive_count
    for count in range(1, local.max_receive_count):
        scaled, full = local.retry_in(count), SCHEDULE.retry_in(count)
        assert scaled is not None and full is not None and 1 <= scaled <= full


@given(
    failures=st.integers(min_value=0, max_value=50),
    now=st.integers(min_value=1, max_value=2**40),
    cooldown=st.integers(min_value=-5, max_value=10**6),
)
def test_an_unreachable_endpoint_defers_for_a_bounded_cooldown_and_keeps_when_it_started(
    failures: int, now: int, cooldown: int
) -> None:
    health = HEALTHY
    for _ in range(failures):
        health = health.after_unreachable(now - 100, cooldown)
    after = health.after_unreachable(now, cooldown)
    assert after.defers(now) and not after.defers(now + MAX_COOLDOWN_S)
    assert after.failing_since == (now - 100 if failures else now)
    assert after.consecutive_failures == failures + 1
