"""The PSP's side of reconciliation: succeeded PaymentIntents per payment, read page by page through Stripe's SDK
(here against the fake PSP, which lists as Stripe does: newest first, `limit`, `starting_after`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from fake_psp import FakePsp
from ops.psp_charges import succeeded_charges

from payments_testing.psp import charge_directly

APPROVED, DECLINED = "4242424242424242", "4000000000009995"


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    running = FakePsp(raw_card_access=True).start()
    yield running
    running.stop()


def charge(psp: FakePsp, order_id: str, card: str, key: str, amount: int = 500) -> str:
    return charge_directly(psp.url, psp.api_key, order_id, amount, "EUR", card=card, idempotency_key=key)


def test_succeeded_intents_are_grouped_by_payment_across_pages(psp: FakePsp) -> None:
    assert charge(psp, "p-1", APPROVED, "p-1") == "succeeded"
    assert charge(psp, "p-2", DECLINED, "p-2") == "card_declined"
    assert charge(psp, "p-3", APPROVED, "p-3", amount=1250) == "succeeded"
    assert charge(psp, "p-3", APPROVED, "p-3-again", amount=1250) == "succeeded"  # charged twice

    found = succeeded_charges(psp.api_key, api_base=psp.url, page_size=1)  # four pages
    assert {order: [(c.amount_minor, c.currency) for c in charges] for order, charges in found.items()} == {
        "p-1": [(500, "EUR")],
        "p-3": [(1250, "EUR"), (1250, "EUR")],
    }


def test_a_wrong_key_is_refused_not_read_as_no_charges(psp: FakePsp) -> None:
    charge(psp, "p-1", APPROVED, "p-1")
    with pytest.raises(stripe.AuthenticationError):
        succeeded_charges("sk_test_wrong", api_base=psp.url)
