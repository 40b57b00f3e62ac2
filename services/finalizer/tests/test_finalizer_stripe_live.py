"""The Stripe adapter against Stripe's own test mode: runs only with STRIPE_API_KEY (a sk_test_ key) set.

    STRIPE_API_KEY=sk_test_… ./pants test services/finalizer/tests/test_finalizer_stripe_live.py

Charges Stripe's test PaymentMethods (pm_card_visa, ...), so a fresh account passes: no raw card data access
needed. Without the variable every case is reported as skipped, never passed. The last case, a search for the
intent by its metadata, waits for Stripe's search index (not read-after-write) up to two minutes.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

from finalizer.adapters.stripe_psp import StripePsp
from finalizer.domain.payment import ChargeResult, PaymentToken, PspDecision
from payments_shared.money import Money

API_KEY = os.environ.get("STRIPE_API_KEY", "")
pytestmark = pytest.mark.skipif(
    not API_KEY.startswith("sk_test_"), reason="set STRIPE_API_KEY=sk_test_… to charge Stripe's test mode"
)


@pytest.fixture
def stripe_psp() -> StripePsp:
    return StripePsp(lambda: API_KEY)


def charge(psp: StripePsp, token: str, key: str | None = None) -> tuple[str, ChargeResult]:
    key = key or str(uuid.uuid4())  # an order id: what the metadata search looks for
    return key, psp.charge(key, Money(1234, "EUR"), "merchant-live-test", PaymentToken(token))


def test_a_test_payment_method_is_charged_once_per_idempotency_key(stripe_psp: StripePsp) -> None:
    key, first = charge(stripe_psp, "pm_card_visa")
    assert first.decision == PspDecision.APPROVED and (first.psp_reference or "").startswith("pi_")
    _, again = charge(stripe_psp, "pm_card_visa", key)
    assert again == first  # Stripe replayed the first answer: same PaymentIntent


@pytest.mark.parametrize(
    ("token", "decline_code"),
    [
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_chargeDeclined", "generic_decline"),
    ],
)
def test_declines_carry_stripes_decline_code(stripe_psp: StripePsp, token: str, decline_code: str) -> None:
    _, result = charge(stripe_psp, token)
    assert (result.decision, result.decline_code) == (PspDecision.DECLINED, decline_code)


def test_a_card_asking_for_3ds_awaits_the_buyer_and_an_abandoned_one_is_cancelled(stripe_psp: StripePsp) -> None:
    _, result = charge(stripe_psp, "pm_card_authenticationRequired")
    assert result.decision == PspDecision.REQUIRES_ACTION and result.next_action is not None
    assert result.psp_reference is not None and stripe_psp.retrieve(result.psp_reference) == result
    cancelled = stripe_psp.cancel(result.psp_reference)
    assert (cancelled.decision, cancelled.decline_code) == (PspDecision.DECLINED, "authentication_abandoned")
    assert stripe_psp.cancel(result.psp_reference) == cancelled  # the same key: Stripe replays its answer


def test_a_charge_is_found_by_its_order_id_once_indexed(stripe_psp: StripePsp) -> None:
    key, charged = charge(stripe_psp, "pm_card_visa")
    deadline = time.monotonic() + 120
    found = stripe_psp.find(key)
    while found is None and time.monotonic() < deadline:
        time.sleep(5)
        found = stripe_psp.find(key)
    assert found == charged
    assert stripe_psp.find(str(uuid.uuid4())) is None
