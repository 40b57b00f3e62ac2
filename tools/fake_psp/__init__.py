"""A faithful subset of Stripe's PaymentIntents, Refunds, Disputes, balance and Payouts API on loopback, for tests,
the local run and the fault run."""

from fake_psp.disputes import DISPUTE_CARD, dispute_fee
from fake_psp.rate_limits import RateLimits
from fake_psp.server import (
    API_KEY,
    AUTHORIZATION_WINDOW_S,
    REFUND_FAIL_CARD,
    TEST_CARDS,
    TEST_PAYMENT_METHODS,
    FakePsp,
    stripe_signature,
)

__all__ = [
    "API_KEY",
    "AUTHORIZATION_WINDOW_S",
    "DISPUTE_CARD",
    "dispute_fee",
    "REFUND_FAIL_CARD",
    "TEST_CARDS",
    "TEST_PAYMENT_METHODS",
    "FakePsp",
    "RateLimits",
    "stripe_signature",
]
