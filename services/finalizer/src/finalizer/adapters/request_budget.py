"""The Stripe requests per second one execution environment may send: a token bucket taken before every HTTP
attempt (the SDK's retries count, as Stripe counts them).

Stripe limits an account (docs.stripe.com/rate-limits: 100 requests/s live, 25 in a sandbox, 25/s per endpoint
unless stated) and answers 429 beyond. Nothing is shared between environments, so Terraform divides the account's
budget among the most environments that may call at once and passes each its share (STRIPE_REQUESTS_PER_S): the
sum stays under the budget however many run, at no AWS call per request. The price: an environment alone cannot
use the others' shares. A bucket holds `burst` tokens, so a batch's records start together after a quiet spell;
beyond that, a request waits up to `max_wait_s` for a token, then is not sent at all (the caller sees no answer:
the record is redelivered by its queue, and its idempotency key makes the retry safe).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_EPSILON = 1e-9


class RequestBudget:
    def __init__(
        self,
        per_second: float,
        burst: float,
        max_wait_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0 or burst < 1 or max_wait_s < 0:
            raise ValueError(f"a request budget needs a rate > 0 and a burst >= 1, not {per_second}/s, {burst}")
        self.per_second, self.burst, self.max_wait_s = per_second, burst, max_wait_s
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._tokens, self._at = burst, clock()
        self.refused = 0  # requests not sent for want of a token

    def take(self) -> bool:
        """A token for one request, waiting at most max_wait_s for it; False (nothing sent) when none came."""
        give_up = self._clock() + self.max_wait_s
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
                self._at = now
                if self._tokens >= 1 - _EPSILON:  # a token, up to the float error of the refill after a wait
                    self._tokens = max(0.0, self._tokens - 1)
                    return True
                wait = (1 - self._tokens) / self.per_second
                if now + wait > give_up:
                    self.refused += 1
                    return False
            self._sleep(wait)
