"""Stripe's 429s on the fake PSP (docs.stripe.com/rate-limits): a per-account rate limit, per-endpoint ones, a
share of requests refused at random, and object lock timeouts.

What Stripe documents and the fake does:
- "If you send many requests in quick succession, you might receive 429 error responses"; "rate limits are
  measured in API requests per second, per Stripe account. The global rate limit applies to total API usage per
  account, while some endpoints have additional limits of their own" (live 100/s, sandbox 25/s; an endpoint 25/s
  unless stated). "Stripe treats each named API operation as a separate endpoint (for example, POST
  /v1/payment_intents and GET /v1/payment_intents/{id} are separate endpoints)": an id in the path is one endpoint.
- A refused request is not executed: nothing created, nothing stored under its idempotency key (the idempotency
  docs: only requests that began executing are saved), so a later retry runs afresh.
- The answer is 429 with an error of type invalid_request_error, code rate_limit (its error-codes entry: "Too many
  requests hit the API too quickly"), and `Stripe-Rate-Limited-Reason` naming the limiter (global-rate,
  endpoint-rate, ...). No `Stripe-Should-Retry` on it: Stripe's SDKs then do not retry a 429 on their own.
- A lock timeout ("another API request or Stripe process is currently accessing" the object) is a 429 code
  lock_timeout that Stripe asks to retry with `Stripe-Should-Retry: true`, which the SDKs honour.
The limiter is a token bucket per second (Stripe publishes rates, not its algorithm), on the fake's own clock.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

RATE_LIMIT_MESSAGE = (
    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
)
LOCK_TIMEOUT_MESSAGE = (
    "This object cannot be accessed right now because another API request or Stripe process is currently "
    "accessing it. If you see this error intermittently, retry the request. If you see this error frequently and "
    "are making multiple concurrent requests to a single object, make your requests serially or at a lower rate."
)
_ID = re.compile(r"/(?:pi|re|ch|dp|txn|pm|cus|po)_[A-Za-z0-9]+")

Refusal = tuple[int, dict[str, Any], dict[str, str]]


def endpoint(method: str, path: str) -> str:
    """The endpoint a request counts against: its method and its path with object ids as `{id}`."""
    return f"{method.upper()} {_ID.sub('/{id}', path.partition('?')[0])}"


class _Bucket:
    def __init__(self, per_second: float, now: float) -> None:
        self.per_second, self.tokens, self.at = per_second, per_second, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.per_second, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RateLimits:
    """Which requests the fake refuses with a 429, and a count of those refused per endpoint (`refused`)."""

    def __init__(
        self,
        *,
        global_per_s: float | None = None,
        endpoint_per_s: float | None = None,
        share: float = 0.0,
        lock_timeout_share: float = 0.0,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.global_per_s, self.endpoint_per_s = global_per_s, endpoint_per_s
        self.share, self.lock_timeout_share = share, lock_timeout_share
        self._random, self._clock = random.Random(seed), clock
        self._lock = threading.Lock()
        self._global: _Bucket | None = None
        self._endpoints: dict[str, _Bucket] = {}
        self._scripted: list[tuple[str | None, str]] = []  # (endpoint or None for any, refusal)
        self.refused: Counter[str] = Counter()  # 429s answered per endpoint
        self.passed: Counter[str] = Counter()  # requests let through per endpoint

    def script(self, *refusals: str, on: str | None = None) -> None:
        """The next requests' refusals, in order: "rate_limit" or "lock_timeout" ("ok" lets one through); `on`
        an endpoint ("POST /v1/payment_intents"): only its requests take them."""
        with self._lock:
            self._scripted.extend((on, refusal) for refusal in refusals)

    def refuse(self, method: str, path: str) -> Refusal | None:
        """(429, Stripe's error body, headers) for a request refused now, else None (the request is counted)."""
        name = endpoint(method, path)
        with self._lock:
            reason = self._reason(name)
            if reason is None:
                self.passed[name] += 1
                return None
            self.refused[name] += 1
        if reason == "lock_timeout":
            error = {"type": "invalid_request_error", "code": "lock_timeout", "message": LOCK_TIMEOUT_MESSAGE}
            return 429, {"error": error}, {"Stripe-Should-Retry": "true"}
        error = {"type": "invalid_request_error", "code": "rate_limit", "message": RATE_LIMIT_MESSAGE}
        return 429, {"error": error}, {"Stripe-Rate-Limited-Reason": reason}

    def _reason(self, name: str) -> str | None:
        mine = next((i for i, (on, _) in enumerate(self._scripted) if on in (None, name)), None)
        if mine is not None:
            scripted = self._scripted.pop(mine)[1]
            return None if scripted == "ok" else "global-rate" if scripted == "rate_limit" else scripted
        if self.lock_timeout_share and self._random.random() < self.lock_timeout_share:
            return "lock_timeout"
        if self.share and self._random.random() < self.share:
            return "global-rate"
        now = self._clock()
        if self.endpoint_per_s is not None:
            bucket = self._endpoints.setdefault(name, _Bucket(self.endpoint_per_s, now))
            if not bucket.take(now):
                return "endpoint-rate"
        if self.global_per_s is not None:
            self._global = self._global or _Bucket(self.global_per_s, now)
            if not self._global.take(now):
                return "global-rate"
        return None
