"""How long the fake PSP takes to answer an API request: none (the default, as the tests want), a fixed delay, or
a Stripe-like distribution, drawn from a seeded random so a run can be repeated.

Stripe publishes no API latency figures that could be cited: its status page (status.stripe.com) shows uptime
and incidents, its docs the rate limits and "Stripe's API latency" only as something to monitor (Merchant Health
Alerting). So the `stripe` model is a stated assumption, not a measurement of Stripe:
- a request's duration is lognormal (a long right tail, as request latencies commonly have), one distribution
  per kind of endpoint, given by its median and p99;
- a card charge (POST /v1/payment_intents with confirm, its capture, a refund): the card network's authorization
  round trip is in it — median 400 ms, p99 2 s;
- other writes (cancel, disputes, payouts): median 250 ms, p99 1 s;
- reads (GET of an intent, a refund, a list, the balance): median 120 ms, p99 500 ms;
- every draw capped at CAP_S (4 s), below the read timeouts the services set, so the model itself never makes a
  client time out (the scripted "timeout"/"lost" faults do that).
Spec strings (the fake's `--latency`, the env FAKE_PSP_LATENCY, the devstack's `--psp-latency`):
  "none" (or "")   no added delay
  "fixed:<ms>"     every API request answers after <ms> milliseconds
  "stripe"         the model above
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass

from fake_psp.rate_limits import endpoint

CAP_S = 4.0
Z_99 = 2.3263478740408408  # the standard normal's 99th percentile: p99 = median * exp(Z_99 * sigma)


@dataclass(frozen=True)
class Lognormal:
    """A lognormal given by its median and p99, in seconds."""

    median_s: float
    p99_s: float

    @property
    def sigma(self) -> float:
        return math.log(self.p99_s / self.median_s) / Z_99

    def draw(self, rng: random.Random) -> float:
        return min(CAP_S, rng.lognormvariate(math.log(self.median_s), self.sigma))

    def cdf(self, seconds: float) -> float:
        if seconds <= 0:
            return 0.0
        return 0.5 * (1 + math.erf(math.log(seconds / self.median_s) / (self.sigma * math.sqrt(2))))

    def expected_slowest(self, draws: int, steps: int = 4_000) -> float:
        """The mean of the slowest of `draws` capped draws: how long requests made at once keep their caller
        (E[max] = the integral over [0, cap] of 1 - F(x)^n; one draw gives the capped mean, above the median)."""
        width = CAP_S / steps
        return sum((1 - self.cdf((i + 0.5) * width) ** draws) * width for i in range(steps))


CHARGE = Lognormal(0.400, 2.0)
WRITE = Lognormal(0.250, 1.0)
READ = Lognormal(0.120, 0.5)
# The endpoints that reach the card network (this fake's creates always confirm).
CHARGING = frozenset({"POST /v1/payment_intents", "POST /v1/payment_intents/{id}/capture", "POST /v1/refunds"})


class Latency:
    """The added delay (seconds) for a request, by its method and path: `delay(method, path)`."""

    spec = "none"

    def delay(self, method: str, path: str) -> float:
        return 0.0


class Fixed(Latency):
    def __init__(self, ms: float) -> None:
        if ms < 0:
            raise ValueError(f"a fixed latency is at least 0 ms, not {ms}")
        self.seconds, self.spec = ms / 1000, f"fixed:{ms:g}"

    def delay(self, method: str, path: str) -> float:
        return self.seconds


class StripeLike(Latency):
    spec = "stripe"

    def __init__(self, seed: int = 0) -> None:
        self._random, self._lock = random.Random(seed), threading.Lock()

    def distribution(self, method: str, path: str) -> Lognormal:
        name = endpoint(method, path)
        if name in CHARGING:
            return CHARGE
        return READ if method.upper() == "GET" else WRITE

    def delay(self, method: str, path: str) -> float:
        with self._lock:  # the server's threads share one seeded sequence
            return self.distribution(method, path).draw(self._random)


def parse(spec: str | None, seed: int = 0) -> Latency:
    """A Latency from its spec string ("none", "fixed:<ms>", "stripe"); ValueError naming the spec otherwise."""
    spec = (spec or "none").strip()
    if spec == "none":
        return Latency()
    if spec == "stripe":
        return StripeLike(seed)
    if spec.startswith("fixed:"):
        try:
            ms = float(spec.removeprefix("fixed:"))
        except ValueError:
            raise ValueError(f"latency {spec!r}: fixed:<ms> takes a number of milliseconds") from None
        return Fixed(ms)
    raise ValueError(f"latency {spec!r}: one of none, fixed:<ms>, stripe")
