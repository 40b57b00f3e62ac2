"""What the finalizer's use case needs: its event store and a PSP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from finalizer.domain.payment import CardRef, ChargeResult
from payments_shared.eventstore import EventStore
from payments_shared.money import Money

__all__ = ["Clock", "EventStore", "PaymentServiceProvider", "PspOutcomeUnknown"]

Clock = Callable[[], datetime]


class PspOutcomeUnknown(Exception):
    """The PSP could not be reached, or answered too late to know whether it charged."""


class PaymentServiceProvider(Protocol):
    def charge(self, idempotency_key: str, amount: Money, merchant_id: str, card: CardRef) -> ChargeResult:
        """Charge once per idempotency key; raise PspOutcomeUnknown when the outcome can't be known."""
        ...
