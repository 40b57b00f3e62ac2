"""The load's buyer on the authentication page: a buyer who arrives after the sweep cancelled the intent is
told so (the page refuses it) and is counted as having walked away, never as a crash of the run; any other
refusal of the page still fails the run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from devstack.load import press
from fake_psp.server import API_KEY, FakePsp


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    running = FakePsp().start()
    yield running
    running.stop()


def awaiting_authentication(psp: FakePsp, key: str) -> Any:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)
    params = {
        "amount": 1234,
        "currency": "eur",
        "confirm": True,
        "payment_method": "pm_card_authenticationRequired",
        "return_url": "https://shop.example/return",
    }
    return client, client.v1.payment_intents.create(params=params, options={"idempotency_key": key})  # type: ignore[arg-type]


def test_a_buyer_in_time_completes_and_one_after_the_cancel_is_too_late(psp: FakePsp) -> None:
    client, in_time = awaiting_authentication(psp, "in-time")
    assert press(f"{in_time.next_action.redirect_to_url.url}/complete") is True
    assert psp.charges["in-time"] == 1

    _, late = awaiting_authentication(psp, "late")
    client.v1.payment_intents.cancel(late.id, params={"cancellation_reason": "abandoned"})  # the sweep, first
    assert press(f"{late.next_action.redirect_to_url.url}/complete") is False
    assert psp.charges["late"] == 0


def test_any_other_refusal_of_the_page_fails_the_run(psp: FakePsp) -> None:
    with pytest.raises(RuntimeError, match="404|400"):
        press(f"{psp.url}/3ds/pi_unknown/complete")
