"""When a failed delivery is tried again: the one retry schedule, and the queue's maxReceiveCount that ends it.

Stripe's rule we model: "In live mode, Stripe attempts to deliver your webhooks for up to three days with an
exponential back off". Ours: 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, then 12 h steps, ~3.2 days in all. The
queue does the waiting: a failed message's visibility is set to the next wait (ChangeMessageVisibility), and
its ApproximateReceiveCount says which attempt it is. After the last attempt the queue's redrive parks it in
the DLQ, so maxReceiveCount must be exactly the number of attempts: both come from retry_schedule.json, which
Terraform reads too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

# SQS: "you can continue to call ChangeMessageVisibility to extend the visibility timeout to a maximum of 12 hours"
# counted from the receive, so a 12 h step is applied less the time an invocation may already have taken.
MAX_VISIBILITY_S = 12 * 3600
INVOCATION_MARGIN_S = 120
SCHEDULE_FILE = "retry_schedule.json"


@dataclass(frozen=True)
class RetrySchedule:
    delays_s: tuple[int, ...]  # the wait after the 1st, 2nd, … failed attempt
    max_receive_count: int
    scale: float = 1.0  # the local run shortens every wait (seconds instead of hours)

    def __post_init__(self) -> None:
        if self.max_receive_count != len(self.delays_s) + 1:
            raise ValueError("max_receive_count must be the number of attempts: one more than the waits")
        if any(d <= 0 or d > MAX_VISIBILITY_S for d in self.delays_s):
            raise ValueError(f"every wait must be within 1..{MAX_VISIBILITY_S} s (SQS's visibility limit)")

    def retry_in(self, receive_count: int) -> int | None:
        """The visibility to set after attempt `receive_count` failed; None after the last (the queue parks it)."""
        if receive_count >= self.max_receive_count:
            return None
        step = self.delays_s[max(receive_count, 1) - 1]
        return max(1, min(round(step * self.scale), MAX_VISIBILITY_S - INVOCATION_MARGIN_S))

    def total_s(self) -> int:
        return sum(self.delays_s)


def load(scale: float = 1.0) -> RetrySchedule:
    raw = json.loads(resources.files(__package__).joinpath(SCHEDULE_FILE).read_text())
    return RetrySchedule(tuple(int(d) for d in raw["delays_s"]), int(raw["max_receive_count"]), scale)
