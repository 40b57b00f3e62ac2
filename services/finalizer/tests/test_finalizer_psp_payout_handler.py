"""Stripe's payout webhooks in-process: the real runtime, the in-memory event store, the Stripe adapter on the fake
PSP (which pays its balance out to the bank, fails a payout when told to, and signs its webhooks as Stripe does).
Each payout.paid / payout.failed is verified, claimed once, and the Payout re-read: its payload is never trusted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from dependency_injector import providers
from fake_psp import API_KEY, FakePsp
from test_finalizer_dispute_handler import post_webhook

from finalizer.domain.streams import PUBLISHED_TYPES, psp_payout_stream
from payments_shared.contracts import check_contract
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.relay import integration_envelope

NOW = 1_800_000_000.0


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    """The fake on a clock of the test's: charges available at once, a payout paid 600 s after it is made."""
    clock = [NOW]
    server = FakePsp(clock=lambda: clock[0], settlement_delay_s=0, payout_arrival_s=600, pay_payouts_after_s=None)
    server.test_clock = clock  # type: ignore[attr-defined]
    yield server.start()
    server.stop()


@pytest.fixture
def webhooks(runtime: Any, psp: FakePsp) -> FakePsp:
    runtime.container.stripe_webhook_secret.override(providers.Object(lambda: psp.webhook_secret))
    return psp


def paid_out(psp: FakePsp, amount: int = 900) -> str:
    """A charge of 1000 EUR cents, then a payout of `amount` of the balance; its id."""
    client = stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0)
    client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"}
    )
    return client.v1.payouts.create(params={"amount": amount, "currency": "eur"}).id


def arrived(psp: FakePsp, payout_id: str) -> None:
    psp.test_clock[0] += 600  # type: ignore[attr-defined]
    assert psp.payout(payout_id)["status"] == "paid"


def sent(psp: FakePsp, payout_id: str, event_type: str) -> dict[str, Any]:
    [event] = [e for e in psp.webhook_events if e["type"] == event_type and e["data"]["object"]["id"] == payout_id]
    return event


def recorded(store: InMemoryEventStore, payout_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, dict(e.data)) for e in store.load(psp_payout_stream(payout_id)).events]


def test_a_paid_payout_is_recorded_once_and_published_as_its_contract(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    payout_id = paid_out(webhooks)
    arrived(webhooks, payout_id)
    paid = sent(webhooks, payout_id, "payout.paid")
    for _ in range(2):  # Stripe redelivers
        assert post_webhook(webhooks, paid)["statusCode"] == 200
    [(event_type, data)] = recorded(store, payout_id)
    assert event_type == "PspPayoutPaid"
    assert data == {
        "payout_id": payout_id,
        "currency": "EUR",
        "amount_minor": 900,
        "status": "PAID",
        "failure_code": None,
    }
    [stored] = store.load(psp_payout_stream(payout_id)).events
    published = integration_envelope(stored, PUBLISHED_TYPES[stored.event_type])
    assert published.event_type == "PspPayoutUpdated" and published.data == data
    check_contract(published)


def test_a_payout_that_fails_after_it_was_paid_is_recorded_failed_once(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    payout_id = paid_out(webhooks)
    arrived(webhooks, payout_id)
    paid = sent(webhooks, payout_id, "payout.paid")
    assert post_webhook(webhooks, paid)["statusCode"] == 200
    webhooks.fail_payout(payout_id)
    failed = sent(webhooks, payout_id, "payout.failed")
    for stripe_event in (failed, paid, failed):  # redelivered, and the paid one late again
        assert post_webhook(webhooks, stripe_event)["statusCode"] == 200
    assert [(t, d["status"], d["amount_minor"]) for t, d in recorded(store, payout_id)] == [
        ("PspPayoutPaid", "PAID", 900),
        ("PspPayoutFailed", "FAILED", 900),
    ]


def test_a_stale_paid_payload_read_after_the_failure_records_both(webhooks: FakePsp, store: InMemoryEventStore) -> None:
    payout_id = paid_out(webhooks)
    arrived(webhooks, payout_id)
    paid = sent(webhooks, payout_id, "payout.paid")  # says paid: not trusted
    webhooks.fail_payout(payout_id)
    assert post_webhook(webhooks, paid)["statusCode"] == 200
    assert [t for t, _ in recorded(store, payout_id)] == ["PspPayoutPaid", "PspPayoutFailed"]


def test_a_payout_still_on_its_way_records_nothing_and_its_event_stays_unclaimed(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    payout_id = paid_out(webhooks)
    created = sent(webhooks, payout_id, "payout.created")
    forged = {**created, "type": "payout.paid"}  # a payload claiming paid while the Payout is pending
    assert post_webhook(webhooks, forged)["statusCode"] == 200
    assert recorded(store, payout_id) == []
    arrived(webhooks, payout_id)
    assert post_webhook(webhooks, forged)["statusCode"] == 200  # not claimed: its redelivery now records it
    assert [t for t, _ in recorded(store, payout_id)] == ["PspPayoutPaid"]


def test_a_payout_webhook_that_does_not_verify_is_a_400(webhooks: FakePsp, store: InMemoryEventStore) -> None:
    payout_id = paid_out(webhooks)
    arrived(webhooks, payout_id)
    paid = sent(webhooks, payout_id, "payout.paid")
    assert post_webhook(webhooks, paid, secret="whsec_someone_else")["statusCode"] == 400
    assert recorded(store, payout_id) == []


def test_a_psp_that_cannot_answer_is_a_503_for_stripe_to_retry(webhooks: FakePsp, store: InMemoryEventStore) -> None:
    payout_id = paid_out(webhooks)
    arrived(webhooks, payout_id)
    paid = sent(webhooks, payout_id, "payout.paid")
    webhooks.stop()  # Stripe unreachable
    assert post_webhook(webhooks, paid)["statusCode"] == 503
    assert recorded(store, payout_id) == []
