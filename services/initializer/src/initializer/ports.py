"""What the initializer's use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from initializer.domain.order import PaymentOrder
from payments_shared.eventstore import EventStore, PutRecord, UpdateRecord

__all__ = ["CardVault", "Clock", "EventStore", "OrderReadModel"]

Clock = Callable[[], datetime]


class CardVault(Protocol):
    def fingerprint(self, card_number: str) -> str:
        """A keyed, stable digest of the card number: same card → same fingerprint, not reversible."""
        ...

    def seal(self, details: Mapping[str, Any], context: str) -> str:
        """Encrypt card details bound to `context` (the order id); returns opaque ciphertext text."""
        ...


class OrderReadModel(Protocol):
    def get(self, payment_order_id: str) -> dict[str, Any] | None:
        """The ShowMeTheMoney row of an order, or None."""
        ...

    def placed(self, order: PaymentOrder, first_event: Mapping[str, Any], timestamp: str) -> PutRecord:
        """The write that creates a new order's row, for the order's first append."""
        ...

    def decided(self, order: PaymentOrder, timestamp: str) -> UpdateRecord:
        """The write that records an order's outcome on its row, for the outcome's append."""
        ...
