"""What the notifier's use cases need, in its own words; adapters/ implements each on one technology."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from notifier.domain.catalog import MerchantEvent
from notifier.domain.endpoints import WebhookEndpoint


class Endpoints(Protocol):
    def add(self, endpoint: WebhookEndpoint, *, limit: int) -> bool:
        """Store a new endpoint; False when its id is taken (a retried creation). TooManyEndpoints when the
        merchant already has `limit`."""
        ...

    def get(self, merchant_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...

    def of_merchant(self, merchant_id: str) -> list[WebhookEndpoint]: ...

    def remove(self, merchant_id: str, endpoint_id: str, *, at: int) -> bool:
        """False when there was none; leaves a tombstone (was_deleted)."""
        ...

    def was_deleted(self, merchant_id: str, endpoint_id: str) -> bool: ...

    def rotated(self, before: WebhookEndpoint, after: WebhookEndpoint) -> bool:
        """Replace the secrets if the endpoint still holds `before`'s; False when it changed meanwhile."""
        ...


@dataclass(frozen=True)
class EventPage:
    events: list[MerchantEvent]
    has_more: bool


class MerchantEvents(Protocol):
    def record(self, event: MerchantEvent) -> bool:
        """Store the event once; False when it was already recorded."""
        ...

    def get(self, merchant_id: str, event_id: str) -> MerchantEvent | None: ...

    def page(
        self,
        merchant_id: str,
        *,
        low: str,
        high: str,
        event_type: str | None,
        limit: int,
        starting_after: str | None,
    ) -> EventPage:
        """Newest first, ids within [low, high], strictly older than starting_after."""
        ...


@dataclass(frozen=True)
class Delivery:
    merchant_id: str
    event_id: str
    endpoint_id: str


class Deliveries(Protocol):
    def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        """Queue each delivery (at least once); raises when some could not be queued."""
        ...


@dataclass(frozen=True)
class DeliveryStatus:
    """How one endpoint's delivery of an event went (the deliverer's log, read-only here)."""

    endpoint_id: str
    attempts: int
    last_attempt_at: int | None
    last_status: str | None
    delivered_at: int | None
    parked: bool


class DeliveryLog(Protocol):
    def of_event(self, merchant_id: str, event_id: str) -> list[DeliveryStatus]: ...
