"""What can go wrong in the initializer's domain, in its own terms: no HTTP here (the API maps each to its
problem, initializer.entrypoints.api)."""

from __future__ import annotations


class IdempotencyKeyReused(Exception):
    """A retried order came with another request body than the first one under its key."""

    def __init__(self, payment_order_id: str) -> None:
        super().__init__(f"this Idempotency-Key created payment order {payment_order_id} with a different request body")
        self.payment_order_id = payment_order_id


class PaymentNotFound(Exception):
    def __init__(self, payment_order_id: str) -> None:
        super().__init__(f"no payment order {payment_order_id}")
        self.payment_order_id = payment_order_id
