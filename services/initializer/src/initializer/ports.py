"""What the initializer's use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from initializer.domain.order import PaymentInitiationEvent, PaymentOrder
from payments_shared.eventstore import EventStore, ViewChange

__all__ = ["CardVault", "Clock", "EventStore", "PaymentOrders"]

Clock = Callable[[], datetime]


class CardVault(Protocol):
    def fingerprint(self, card_number: str) -> str:
        """A keyed, stable digest of the card number: same card → same fingerprint, not reversible."""
        ...

    def seal(self, details: Mapping[str, Any], context: str) -> str:
        """Encrypt card details bound to `context` (the order id); returns opaque ciphertext text."""
        ...


class PaymentOrders(Protocol):
    """The orders' read model (ShowMeTheMoney): a row per order, written in the order's own appends."""

    def placed(self, order: PaymentOrder, initiation: PaymentInitiationEvent, version: int, at: datetime) -> ViewChange:
        """A new order's row: `order` as its first event `initiation` (at `version`) made it, recorded `at`."""
        ...

    def status_recorded(
        self, order: PaymentOrder, version: int, at: datetime, presumed: tuple[PaymentOrder, int] | None = None
    ) -> ViewChange:
        """The order's outcome on its row: `order` after its outcome event (at `version`), recorded `at`.

        presumed: the order (and version) the outcome was decided on without reading it; the change then
        happens only if the row still shows that order (rows.presumed_fields), else the whole append is refused
        as a lost race (ConcurrencyConflict) and the order is read."""
        ...

    def get(self, payment_order_id: str) -> dict[str, Any] | None:
        """The order's row, or None."""
        ...
