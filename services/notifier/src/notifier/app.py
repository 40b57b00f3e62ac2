"""The notifier's use cases: a merchant's endpoints, its events as recorded, and the deliveries they queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from notifier.domain.catalog import EVENT_ID, MerchantEvent, id_bounds
from notifier.domain.endpoints import (
    MAX_ENDPOINTS,
    InvalidEndpoint,
    WebhookEndpoint,
    endpoint_id_for,
    new_endpoint,
    rotate,
)
from notifier.domain.errors import EndpointNotFound, EventNotFound, KeyReused, NotSubscribed
from notifier.domain.url_policy import TargetRefused
from notifier.ports import (
    Deliveries,
    Delivery,
    DeliveryLog,
    DeliveryStatus,
    Endpoints,
    EventPage,
    MerchantEvents,
)

TargetCheck = Callable[[str], object]  # url_policy.resolve_target with the deployment's settings


def _fingerprint(url: str, types: Sequence[str], description: str | None) -> str:
    return json.dumps({"url": url, "enabled_events": list(types), "description": description}, sort_keys=True)


@dataclass(frozen=True)
class Recorded:
    recorded: bool  # False: already recorded (a redelivered source event)
    queued: int  # deliveries queued now (again, for a redelivery: at least once)


class NotifierApp:
    ROTATION_ATTEMPTS = 3

    def __init__(
        self,
        endpoints: Endpoints,
        events: MerchantEvents,
        deliveries: Deliveries,
        check_target: TargetCheck,
        delivery_log: DeliveryLog | None = None,
        clock: Callable[[], float] = time.time,
        max_endpoints: int = MAX_ENDPOINTS,
    ) -> None:
        self._endpoints, self._events, self._deliveries = endpoints, events, deliveries
        self._delivery_log = delivery_log
        self._check_target, self._clock, self._max_endpoints = check_target, clock, max_endpoints
        self._batch_endpoints: dict[str, list[WebhookEndpoint]] | None = None  # new_batch: merchant -> endpoints

    def _now(self) -> int:
        return int(self._clock())

    # Endpoints

    def register(
        self, merchant_id: str, key: str, url: str, types: Sequence[str], description: str | None
    ) -> tuple[WebhookEndpoint, bool]:
        """The endpoint the key names, created now (True) or found from a first request with this key (False).
        A retry answers as the first request did, even if the URL would be refused today."""
        endpoint_id = endpoint_id_for(merchant_id, key)
        fingerprint = _fingerprint(url, types, description)
        existing = self._endpoints.get(merchant_id, endpoint_id)
        if existing is not None:
            return self._replayed(existing, fingerprint), False
        if self._endpoints.was_deleted(merchant_id, endpoint_id):
            raise KeyReused("the endpoint this Idempotency-Key created was deleted since: use a new key")
        try:
            self._check_target(url)
        except TargetRefused as refused:
            raise InvalidEndpoint("body.url", str(refused)) from refused
        endpoint = new_endpoint(
            merchant_id, endpoint_id, url, types, description, now=self._now(), fingerprint=fingerprint
        )
        if self._endpoints.add(endpoint, limit=self._max_endpoints):
            return endpoint, True
        raced = self._endpoints.get(merchant_id, endpoint_id)  # the same key sent twice at once: one wrote it
        if raced is None:
            raise EndpointNotFound(f"endpoint {endpoint_id} was created and deleted meanwhile")
        return self._replayed(raced, fingerprint), False

    @staticmethod
    def _replayed(existing: WebhookEndpoint, fingerprint: str) -> WebhookEndpoint:
        if existing.request_fingerprint != fingerprint:
            raise KeyReused("this Idempotency-Key already created an endpoint with another request")
        return existing

    def endpoint(self, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
        found = self._endpoints.get(merchant_id, endpoint_id)
        if found is None:
            raise EndpointNotFound(f"no webhook endpoint {endpoint_id}")
        return found

    def endpoints(self, merchant_id: str) -> list[WebhookEndpoint]:
        return sorted(self._endpoints.of_merchant(merchant_id), key=lambda e: (-e.created, e.endpoint_id))

    def delete(self, merchant_id: str, endpoint_id: str) -> None:
        if not self._endpoints.remove(merchant_id, endpoint_id, at=self._now()):
            raise EndpointNotFound(f"no webhook endpoint {endpoint_id}")

    def rotate_secret(self, merchant_id: str, endpoint_id: str, key: str, grace_period_s: int) -> WebhookEndpoint:
        """A new current secret; the old one signs too until the grace period ends. A retry under the same key
        rotates nothing more and answers the secret that rotation made."""
        for _ in range(self.ROTATION_ATTEMPTS):
            before = self.endpoint(merchant_id, endpoint_id)
            if before.rotated_under(key):
                return before
            after = rotate(before, now=self._now(), grace_period_s=grace_period_s, key=key)
            if self._endpoints.rotated(before, after):
                return after
        raise EndpointNotFound(f"endpoint {endpoint_id} kept changing; retry with the same Idempotency-Key")

    # Events

    def new_batch(self) -> None:
        """The events recorded from now until the next call are one consumer batch: they share one look-up of each
        merchant's endpoints (one Query per merchant and batch instead of one per event, issue 32). An endpoint
        registered while the batch runs may miss the batch's later events of its merchant, as one registered just
        after a per-event look-up would miss that event: the window is one batch (seconds), and GET /events has
        every event. A deleted endpoint gets nothing more either way: the deliverer reads it at every attempt."""
        self._batch_endpoints = {}

    def record(self, event: MerchantEvent) -> Recorded:
        """Record the event once, then queue a delivery to each endpoint that wants it — again on a redelivered
        source event (a crash may have come between the two: at least once)."""
        recorded = self._events.record(event)
        return Recorded(recorded, self._queue(event, self._subscribed(event)))

    def _subscribed(self, event: MerchantEvent) -> list[WebhookEndpoint]:
        return [e for e in self._of_merchant(event.merchant_id) if e.wants(event.type)]

    def _of_merchant(self, merchant_id: str) -> list[WebhookEndpoint]:
        batch = self._batch_endpoints
        if batch is None:
            return self._endpoints.of_merchant(merchant_id)
        if merchant_id not in batch:
            batch[merchant_id] = self._endpoints.of_merchant(merchant_id)
        return batch[merchant_id]

    def _queue(self, event: MerchantEvent, endpoints: Sequence[WebhookEndpoint]) -> int:
        self._deliveries.enqueue([Delivery(event.merchant_id, event.event_id, e.endpoint_id) for e in endpoints])
        return len(endpoints)

    def event(self, merchant_id: str, event_id: str) -> MerchantEvent:
        found = self._events.get(merchant_id, event_id) if EVENT_ID.fullmatch(event_id) else None
        if found is None:
            raise EventNotFound(f"no event {event_id}")
        return found

    def delivery_statuses(self, merchant_id: str, event_id: str) -> list[DeliveryStatus]:
        """How each endpoint's delivery of the event went so far (none yet: an empty list)."""
        self.event(merchant_id, event_id)
        return [] if self._delivery_log is None else self._delivery_log.of_event(merchant_id, event_id)

    def events(
        self,
        merchant_id: str,
        *,
        event_type: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: int = 10,
        starting_after: str | None = None,
    ) -> EventPage:
        low, high = id_bounds(created_gte, created_lte)
        if low > high:
            return EventPage([], False)
        return self._events.page(
            merchant_id, low=low, high=high, event_type=event_type, limit=limit, starting_after=starting_after
        )

    def redeliver(self, merchant_id: str, event_id: str, endpoint_id: str | None) -> list[str]:
        """Queue the event again to one endpoint, or to every endpoint that wants its type now; their ids."""
        event = self.event(merchant_id, event_id)
        if endpoint_id is None:
            targets = self._subscribed(event)
        else:
            endpoint = self.endpoint(merchant_id, endpoint_id)
            if not endpoint.wants(event.type):
                raise NotSubscribed(f"endpoint {endpoint_id} does not take {event.type} events")
            targets = [endpoint]
        self._queue(event, targets)
        return [e.endpoint_id for e in targets]
