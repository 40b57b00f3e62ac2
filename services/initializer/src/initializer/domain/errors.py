"""What can go wrong in the initializer's domain, in its own terms: no HTTP here (the API maps each to its
problem, initializer.entrypoints.api)."""

from __future__ import annotations

from payments_shared.money import Money


class IdempotencyKeyReused(Exception):
    """A retried order came with another request body than the first one under its key."""

    def __init__(self, payment_order_id: str) -> None:
        super().__init__(f"this Idempotency-Key created payment order {payment_order_id} with a different request body")
        self.payment_order_id = payment_order_id


class RefundKeyReused(IdempotencyKeyReused):
    """A retried refund came with another request body than the first one under its key."""

    def __init__(self, payment_order_id: str, refund_id: str) -> None:
        Exception.__init__(self, f"this Idempotency-Key asked for refund {refund_id} with a different request body")
        self.payment_order_id = payment_order_id


class PaymentNotFound(Exception):
    def __init__(self, payment_order_id: str) -> None:
        super().__init__(f"no payment order {payment_order_id}")
        self.payment_order_id = payment_order_id


class PaymentNotRefundable(Exception):
    """Only a successful payment (or one partly refunded) can be refunded."""

    def __init__(self, payment_order_id: str, status: str) -> None:
        super().__init__(f"payment order {payment_order_id} is {status}: only a successful payment can be refunded")
        self.payment_order_id = payment_order_id
        self.status = status


class PaymentDisputed(Exception):
    """A refund of a payment whose dispute is open: Stripe refuses to refund a charged-back charge (error code
    charge_disputed, "The charge you're attempting to refund has been charged back"), and the dispute itself may
    give the buyer the money back; the merchant answers the dispute instead."""

    def __init__(self, payment_order_id: str, dispute_ids: tuple[str, ...]) -> None:
        super().__init__(
            f"payment order {payment_order_id} has an open dispute ({', '.join(dispute_ids)}): it cannot be refunded"
            " while the dispute is open"
        )
        self.payment_order_id = payment_order_id
        self.dispute_ids = dispute_ids


class RefundExceedsRemaining(Exception):
    """A refund larger than what is left of the payment to refund (refunds taken or in flight deducted)."""

    def __init__(self, requested: Money | None, remaining: Money) -> None:
        left = f"{remaining.to_decimal_string()} {remaining.currency}"
        asked = "" if requested is None else f"the refund of {requested.to_decimal_string()} {requested.currency}: "
        super().__init__(
            f"{asked}{left} left to refund" if remaining.is_positive() else f"{asked}nothing left to refund"
        )
        self.remaining = remaining


class RefundCurrencyMismatch(Exception):
    def __init__(self, currency: str, payment_currency: str) -> None:
        super().__init__(f"the refund is in {currency}; the payment was in {payment_currency}")
        self.currency = currency


class PaymentNotAuthorized(Exception):
    """Only an AUTHORIZED payment (a manual capture's hold) can be captured or canceled; says what it is instead."""

    def __init__(self, payment_order_id: str, status: str, act: str) -> None:
        super().__init__(f"payment order {payment_order_id} is {status}: only an AUTHORIZED payment can be {act}")
        self.payment_order_id = payment_order_id
        self.status = status


class AuthorizationAlreadySettled(Exception):
    """A capture or a cancel was already asked of this authorization (under another Idempotency-Key)."""

    def __init__(self, payment_order_id: str, asked: str) -> None:
        super().__init__(f"a {asked} of payment order {payment_order_id} was already requested")
        self.payment_order_id = payment_order_id
        self.asked = asked


class CaptureKeyReused(IdempotencyKeyReused):
    """A retried capture or cancel came with another request body than the first one under its key."""

    def __init__(self, payment_order_id: str, asked: str) -> None:
        Exception.__init__(self, f"this Idempotency-Key asked for a {asked} with a different request body")
        self.payment_order_id = payment_order_id


class CaptureExceedsAuthorized(Exception):
    """A capture of nothing, or of more than was authorized."""

    def __init__(self, requested: Money, authorized: Money) -> None:
        super().__init__(
            f"the capture of {requested.to_decimal_string()} {requested.currency}: "
            f"{authorized.to_decimal_string()} {authorized.currency} is authorized"
        )
        self.authorized = authorized
