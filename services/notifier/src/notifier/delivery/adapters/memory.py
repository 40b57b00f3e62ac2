"""In-memory twins of the deliverer's tables (tests, the benchmark): same behaviour, thread-safe."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from notifier.delivery.health import HEALTHY, EndpointHealth
from notifier.delivery.ports import DeliveryRequest, Endpoint, StoredEvent


class InMemoryMerchantEvents:
    def __init__(self) -> None:
        self.events: dict[tuple[str, str], StoredEvent] = {}

    def event(self, merchant_id: str, event_id: str) -> StoredEvent | None:
        return self.events.get((merchant_id, event_id))


class InMemoryWebhookEndpoints:
    def __init__(self) -> None:
        self.endpoints: dict[tuple[str, str], Endpoint] = {}

    def endpoint(self, merchant_id: str, endpoint_id: str) -> Endpoint | None:
        return self.endpoints.get((merchant_id, endpoint_id))


@dataclass
class DeliveryRow:
    attempts: int = 0
    last_attempt_at: int | None = None
    last_status: str | None = None
    delivered_at: int | None = None
    parked: bool = False


@dataclass
class InMemoryDeliveryLog:
    rows: dict[tuple[str, str, str], DeliveryRow] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _row(self, request: DeliveryRequest) -> DeliveryRow:
        return self.rows.setdefault((request.merchant_id, request.event_id, request.endpoint_id), DeliveryRow())

    def record_attempt(self, request: DeliveryRequest, at: int, status: str, *, delivered: bool) -> None:
        with self._lock:
            row = self._row(request)
            row.attempts, row.last_attempt_at, row.last_status = row.attempts + 1, at, status
            if delivered and row.delivered_at is None:
                row.delivered_at = at

    def record_parked(self, request: DeliveryRequest, at: int, status: str) -> None:
        with self._lock:
            row = self._row(request)
            row.parked, row.last_status = True, status


class InMemoryEndpointHealth:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], EndpointHealth] = {}
        self.in_flight: dict[tuple[str, str], tuple[int, int]] = {}  # (count, lease_until)
        self._lock = threading.Lock()

    def claim(self, merchant_id: str, endpoint_id: str, *, now: int, cap: int, lease_s: int) -> bool:
        with self._lock:
            count, lease_until = self.in_flight.get((merchant_id, endpoint_id), (0, 0))
            if count >= cap and lease_until >= now:
                return False
            self.in_flight[(merchant_id, endpoint_id)] = (count + 1 if count < cap else 1, now + lease_s)
            return True

    def release(self, merchant_id: str, endpoint_id: str) -> None:
        with self._lock:
            count, lease_until = self.in_flight.get((merchant_id, endpoint_id), (0, 0))
            if count > 0:
                self.in_flight[(merchant_id, endpoint_id)] = (count - 1, lease_until)

    def health(self, merchant_id: str, endpoint_id: str) -> EndpointHealth:
        with self._lock:
            return self.rows.get((merchant_id, endpoint_id), HEALTHY)

    def save(self, merchant_id: str, endpoint_id: str, health: EndpointHealth) -> None:
        with self._lock:
            self.rows[(merchant_id, endpoint_id)] = health

    def clear(self, merchant_id: str, endpoint_id: str) -> None:
        with self._lock:
            self.rows.pop((merchant_id, endpoint_id), None)
