"""The one retry policy: a bounded number of attempts with full-jitter exponential backoff.

Used where a write may be refused for a passing reason (a version race, a transaction conflict, throttling).
When the attempts run out the last error propagates, so the queue redelivers the message later: a retry
loop here never waits forever and never turns "not now" into "done".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    base_delay_s: float = 0.005
    max_delay_s: float = 0.25

    def delay(self, attempt: int) -> float:
        """Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): spreads racing writers apart."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))  # noqa: S311 - jitter


DEFAULT_RETRY = RetryPolicy()


def retry(
    operation: Callable[[int], T],
    *,
    on: tuple[type[Exception], ...],
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call operation(attempt) until it returns; retry only the errors in `on`, at most policy.attempts times."""
    for attempt in range(policy.attempts - 1):
        try:
            return operation(attempt)
        except on:
            sleep(policy.delay(attempt))
    return operation(policy.attempts - 1)
