"""What the deliverer reads and writes, as the contract's tables hold it (adapters: DynamoDB and memory)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from notifier.delivery.health import EndpointHealth
from notifier.domain.url_policy import Target

ALL_EVENTS = "*"


@dataclass(frozen=True)
class DeliveryRequest:
    """One message of the notifier-deliveries queue."""

    merchant_id: str
    event_id: str
    endpoint_id: str


@dataclass(frozen=True)
class StoredEvent:
    type: str
    body: bytes  # exactly as recorded, delivered identically on every attempt


@dataclass(frozen=True)
class Secret:
    secret: str
    expires_at: int | None = None  # None: the current secret


@dataclass(frozen=True)
class Endpoint:
    url: str
    enabled_events: tuple[str, ...]
    status: str
    secrets: tuple[Secret, ...]

    def wants(self, event_type: str) -> bool:
        return self.status == "enabled" and (ALL_EVENTS in self.enabled_events or event_type in self.enabled_events)

    def live_secrets(self, now: int) -> list[str]:
        """The secrets that sign now: the current one and any rotated one still in its grace period."""
        return [s.secret for s in self.secrets if s.expires_at is None or s.expires_at > now]


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt came to."""

    status: str  # "200", "500", "timeout", "refused: <reason>", …
    delivered: bool  # a 2xx came back (within the bounds)
    reachable: bool  # the endpoint answered at all (False: it counts against the endpoint's health)


class MerchantEvents(Protocol):
    def event(self, merchant_id: str, event_id: str) -> StoredEvent | None: ...


class WebhookEndpoints(Protocol):
    def endpoint(self, merchant_id: str, endpoint_id: str) -> Endpoint | None: ...


class DeliveryLog(Protocol):
    def record_attempt(self, request: DeliveryRequest, at: int, status: str, *, delivered: bool) -> None: ...

    def record_parked(self, request: DeliveryRequest, at: int, status: str) -> None: ...


class EndpointHealthStore(Protocol):
    def health(self, merchant_id: str, endpoint_id: str) -> EndpointHealth: ...

    def save(self, merchant_id: str, endpoint_id: str, health: EndpointHealth) -> None: ...

    def clear(self, merchant_id: str, endpoint_id: str) -> None: ...

    def claim(self, merchant_id: str, endpoint_id: str, *, now: int, cap: int, lease_s: int) -> bool:
        """One more attempt in flight to the endpoint, unless `cap` are (a claim lapses after lease_s)."""
        ...

    def release(self, merchant_id: str, endpoint_id: str) -> None: ...


class Sender(Protocol):
    def send(self, target: Target, body: bytes, headers: dict[str, str]) -> Attempt: ...
