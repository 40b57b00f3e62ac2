"""Errors the initializer's clients can cause, each a named Problem with its status code."""

from __future__ import annotations

from payments_shared.problems import NotFound, Unprocessable


class IdempotencyKeyReused(Unprocessable):
    type = "urn:payments:problem:idempotency-key-reused"
    title = "Idempotency-Key already used for a different request"

    def __init__(self, payment_order_id: str) -> None:
        super().__init__(
            f"this Idempotency-Key created payment order {payment_order_id} with a different request body"
        )


class PaymentNotFound(NotFound):
    type = "urn:payments:problem:payment-not-found"
    title = "Payment order not found"

    def __init__(self, payment_order_id: str) -> None:
        super().__init__(f"no payment order {payment_order_id}")
