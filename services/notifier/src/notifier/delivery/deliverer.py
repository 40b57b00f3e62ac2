"""One delivery attempt: read the event and the endpoint as they are now, sign, POST, and say what the queue does.

The endpoint is read at every attempt: a deleted endpoint, or one that no longer wants the type, ends the
delivery (Stripe: an endpoint disabled or deleted during retries gets no further attempts for the event); its
current URL is checked again (url_policy) and its live secrets sign, so a rotation or a URL change applies to
retries too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from notifier.delivery.health import HEALTHY, EndpointHealth
from notifier.delivery.ports import (
    Attempt,
    DeliveryLog,
    DeliveryRequest,
    Endpoint,
    EndpointHealthStore,
    MerchantEvents,
    Sender,
    StoredEvent,
    WebhookEndpoints,
)
from notifier.delivery.schedule import INVOCATION_MARGIN_S, MAX_VISIBILITY_S, RetrySchedule
from notifier.domain.signature import HEADER, sign
from notifier.domain.url_policy import Resolver, TargetRefused, resolve_target, system_resolver

USER_AGENT = "payments-webhooks/1"
# Most endpoints answer well within this; one that has not is likely waiting out the 2 s + 5 s bounds. Lower
# would postpone slow-but-healthy endpoints more often; higher lets a dead busy one hold more invocations first.
SUSPECT_AFTER_S = 0.5
# Attempts in flight to one endpoint at once (each holds an invocation for up to the 2 s + 5 s bounds); a claim
# lapses after the lease, should the invocation that made it die mid-attempt.
MAX_IN_FLIGHT = 3
IN_FLIGHT_LEASE_S = 15


@dataclass(frozen=True)
class Outcome:
    """What the queue does with the message: done (deleted), or back after retry_in_s (None: let it park)."""

    status: str
    done: bool
    retry_in_s: int | None = None


class Deliverer:
    def __init__(
        self,
        events: MerchantEvents,
        endpoints: WebhookEndpoints,
        log: DeliveryLog,
        health: EndpointHealthStore,
        sender: Sender,
        schedule: RetrySchedule,
        *,
        allow_loopback: bool = False,
        resolve: Resolver = system_resolver,
        clock: Callable[[], float] = time.time,
        suspect_after_s: float = SUSPECT_AFTER_S,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._max_in_flight = max_in_flight
        self._suspect_after_s = suspect_after_s
        self._events, self._endpoints, self._log, self._health = events, endpoints, log, health
        self._sender, self._schedule = sender, schedule
        self._allow_loopback, self._resolve, self._clock = allow_loopback, resolve, clock

    def deliver(self, request: DeliveryRequest, receive_count: int) -> Outcome:
        event = self._events.event(request.merchant_id, request.event_id)
        if event is None:
            return Outcome("no such event", done=True)
        endpoint = self._endpoints.endpoint(request.merchant_id, request.endpoint_id)
        if endpoint is None:
            return Outcome("endpoint deleted", done=True)
        if not endpoint.wants(event.type):
            return Outcome(f"endpoint no longer wants {event.type}", done=True)

        now = int(self._clock())
        health = self._health.health(request.merchant_id, request.endpoint_id)
        if health.defers(now):
            # No HTTP call: the endpoint was unreachable moments ago. Come back after its cool-down at the earliest.
            return self._failed(request, receive_count, now, "deferred: endpoint unreachable", health.retry_not_before)

        # At most MAX_IN_FLIGHT attempts to one endpoint at once, across invocations: before the first one is
        # suspected, a busy endpoint that went dead could otherwise hold every concurrent batch for its bounds.
        if not self._health.claim(
            request.merchant_id, request.endpoint_id, now=now, cap=self._max_in_flight, lease_s=IN_FLIGHT_LEASE_S
        ):
            return self._failed(request, receive_count, now, "deferred: endpoint busy", now)
        try:
            return self._attempt_and_record(request, receive_count, endpoint, event, health, now)
        finally:
            self._health.release(request.merchant_id, request.endpoint_id)

    def _attempt_and_record(
        self,
        request: DeliveryRequest,
        receive_count: int,
        endpoint: Endpoint,
        event: StoredEvent,
        health: EndpointHealth,
        now: int,
    ) -> Outcome:
        # An attempt still waiting after SUSPECT_AFTER_S marks the endpoint failing at once, so other invocations
        # defer its messages instead of each waiting out the same bounds; an answer that then comes clears it.
        suspected = threading.Event()

        def suspect() -> None:
            suspected.set()
            self._health.save(request.merchant_id, request.endpoint_id, self._unreachable(health, now))

        timer = threading.Timer(self._suspect_after_s, suspect)
        timer.daemon = True
        timer.start()
        try:
            attempt = self._attempt(endpoint.url, endpoint.live_secrets(now), event.body, now)
        finally:
            timer.cancel()
            timer.join()  # a suspicion already being written lands before the outcome's own write, never after
        self._log.record_attempt(request, now, attempt.status, delivered=attempt.delivered)
        if attempt.delivered:
            if health != HEALTHY or suspected.is_set():
                self._health.clear(request.merchant_id, request.endpoint_id)
            return Outcome(attempt.status, done=True)
        if not attempt.reachable:
            health = self._unreachable(health, now)
            self._health.save(request.merchant_id, request.endpoint_id, health)
        elif suspected.is_set():  # slow, but it answered: it is up
            self._health.clear(request.merchant_id, request.endpoint_id)
        return self._failed(request, receive_count, now, attempt.status, health.retry_not_before)

    def _unreachable(self, health: EndpointHealth, now: int) -> EndpointHealth:
        failures = health.consecutive_failures + 1
        cooldown = self._schedule.retry_in(min(failures, self._schedule.max_receive_count - 1)) or 1
        return health.after_unreachable(now, cooldown)

    def _attempt(self, url: str, secrets: list[str], body: bytes, now: int) -> Attempt:
        try:
            target = resolve_target(url, allow_loopback=self._allow_loopback, resolve=self._resolve)
        except TargetRefused as refused:
            return Attempt(f"refused: {refused}", delivered=False, reachable=False)
        headers = {
            "Content-Type": "application/json",
            HEADER: sign(secrets, now, body),
            "User-Agent": USER_AGENT,
        }
        return self._sender.send(target, body, headers)

    def _failed(self, request: DeliveryRequest, receive_count: int, now: int, status: str, not_before: int) -> Outcome:
        retry_in = self._schedule.retry_in(receive_count)
        if retry_in is None:
            # The last attempt: the queue's redrive moves the message to the DLQ at its next receive.
            self._log.record_parked(request, now, status)
            return Outcome(status, done=False, retry_in_s=None)
        wait = max(retry_in, not_before - now)
        return Outcome(status, done=False, retry_in_s=min(wait, MAX_VISIBILITY_S - INVOCATION_MARGIN_S))
