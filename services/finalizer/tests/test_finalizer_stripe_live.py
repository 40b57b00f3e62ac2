"""The Stripe adapter against Stripe's own test mode: runs only with STRIPE_API_KEY (a sk_test_ key) set.

    STRIPE_API_KEY=sk_test_… ./pants test services/finalizer/tests/test_finalizer_stripe_live.py

The account must accept card numbers on its API (Dashboard → Settings → Integration → raw card data APIs,
test mode). Without the variable every case is reported as skipped, never passed.
"""

from __future__ import annotations

import os
import uuid

import pytest

from finalizer.adapters.stripe_psp import StripePsp
from finalizer.domain.payment import CardDetails, ChargeResult, PspDecision
from payments_shared.money import Money

API_KEY = os.environ.get("STRIPE_API_KEY", "")
pytestmark = pytest.mark.skipif(
    not API_KEY.startswith("sk_test_"), reason="set STRIPE_API_KEY=sk_test_… to charge Stripe's test mode"
)


@pytest.fixture
def stripe_psp() -> StripePsp:
    return StripePsp(lambda: API_KEY)


def charge(psp: StripePsp, number: str, key: str | None = None) -> tuple[str, ChargeResult]:
    key = key or f"live-test-{uuid.uuid4()}"
    return key, psp.charge(key, Money(1234, "EUR"), "merchant-live-test", CardDetails(number, 12, 2034, "Ada"))


def test_a_test_card_is_charged_once_per_idempotency_key(stripe_psp: StripePsp) -> None:
    key, first = charge(stripe_psp, "4242424242424242")
    assert first.decision == PspDecision.APPROVED and (first.psp_reference or "").startswith("pi_")
    _, again = charge(stripe_psp, "4242424242424242", key)
    assert again == first  # Stripe replayed the first answer: same PaymentIntent


@pytest.mark.parametrize(
    ("number", "decline_code"),
    [
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000002", "generic_decline"),
        ("4000002500003155", "authentication_required"),
    ],
)
def test_declines_carry_stripes_decline_code(stripe_psp: StripePsp, number: str, decline_code: str) -> None:
    _, result = charge(stripe_psp, number)
    assert (result.decision, result.decline_code) == (PspDecision.DECLINED, decline_code)
