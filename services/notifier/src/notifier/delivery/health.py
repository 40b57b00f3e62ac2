"""Per-endpoint health: after a failure that says the endpoint is unreachable, its other deliveries wait.

Without it, a dead endpoint's backlog would cost one connect or response timeout per message, each holding an
invocation (and its batch) for up to 7 s. Instead the first failure sets retry_not_before; until then the
endpoint's messages are re-scheduled without an HTTP call, and the first attempt after it is the probe. The
cool-down grows with consecutive failures (the retry schedule's steps) but stays short (MAX_COOLDOWN_S), so an
endpoint that comes back gets its backlog soon. Only unreachability counts: an endpoint that answers (even
4xx for one event) is up, and its other events go.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_COOLDOWN_S = 3600


@dataclass(frozen=True)
class EndpointHealth:
    failing_since: int | None = None  # unix s of the first failure of the current streak
    retry_not_before: int = 0  # unix s before which no HTTP call is made to the endpoint
    consecutive_failures: int = 0

    def defers(self, now: int) -> bool:
        return now < self.retry_not_before

    def after_unreachable(self, now: int, cooldown_s: int) -> EndpointHealth:
        return EndpointHealth(
            failing_since=self.failing_since if self.failing_since is not None else now,
            retry_not_before=now + max(1, min(cooldown_s, MAX_COOLDOWN_S)),
            consecutive_failures=self.consecutive_failures + 1,
        )


HEALTHY = EndpointHealth()
