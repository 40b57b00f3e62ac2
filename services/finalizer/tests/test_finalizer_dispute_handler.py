"""Stripe's dispute webhooks in-process: the real runtime, the in-memory event store, the Stripe adapter on the
fake PSP (whose dispute test card is disputed as Stripe's is, and which signs its webhooks as Stripe does)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from dependency_injector import providers
from fake_psp import FakePsp, dispute_fee
from finalizer_testdata import payment_initiated, post_webhook

from finalizer.domain.streams import PUBLISHED_TYPES, dispute_stream
from finalizer.entrypoints import charge
from payments_shared.contracts import check_contract
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.relay import integration_envelope
from payments_testing.events import deliver


@pytest.fixture
def webhooks(runtime: ModuleType, psp: FakePsp) -> FakePsp:
    runtime.container.stripe_webhook_secret.override(providers.Object(lambda: psp.webhook_secret))
    return psp


def paid(payment_method: str = "pm_card_createDispute") -> str:
    """A payment the finalizer charged (12.34 EUR), through its own consumer."""
    event = payment_initiated(payment_method=payment_method, card=None, payment_details=None)
    assert deliver(charge.handler, event) == []
    return str(event["detail"]["data"]["payment_order_id"])


def dispute_of(psp: FakePsp, order_id: str) -> dict[str, Any]:
    [intent] = psp.intents_with(payment_order_id=order_id)
    [dispute] = psp.disputes_of(intent["id"])
    return dispute


def sent(psp: FakePsp, dispute_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in psp.webhook_events if e["type"] == event_type and e["data"]["object"]["id"] == dispute_id]


def recorded(store: InMemoryEventStore, dispute_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, dict(e.data)) for e in store.load(dispute_stream(dispute_id)).events]


def close(psp: FakePsp, dispute_id: str, evidence: str) -> None:
    status, _, _ = psp._update_dispute(dispute_id, None, {"evidence": {"uncategorized_text": evidence}}, "req_1", False)
    assert status == 200


def test_a_disputed_payment_is_recorded_opened_once_with_the_amount_and_fee(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    order_id = paid()
    dispute = dispute_of(webhooks, order_id)
    [created] = sent(webhooks, dispute["id"], "charge.dispute.created")
    for _ in range(2):  # Stripe redelivers
        assert post_webhook(webhooks, created)["statusCode"] == 200
    [(event_type, data)] = recorded(store, dispute["id"])
    assert event_type == "DisputeOpened"
    assert data == {
        "dispute_id": dispute["id"],
        "payment_order_id": order_id,
        "merchant_id": "merchant-1",
        "currency": "EUR",
        "amount_minor": 1234,
        "fee_minor": dispute_fee("eur"),
        "status": "OPENED",
        "reason": "fraudulent",
    }
    [stored] = store.load(dispute_stream(dispute["id"])).events
    published = integration_envelope(stored, PUBLISHED_TYPES[stored.event_type])
    assert published.event_type == "DisputeStatusUpdated" and published.data == data
    check_contract(published)


@pytest.mark.parametrize(
    ("evidence", "closed"), [("winning_evidence", "DisputeWon"), ("losing_evidence", "DisputeLost")]
)
def test_a_closed_dispute_is_recorded_won_or_lost_once(
    webhooks: FakePsp, store: InMemoryEventStore, evidence: str, closed: str
) -> None:
    dispute = dispute_of(webhooks, paid())
    [created] = sent(webhooks, dispute["id"], "charge.dispute.created")
    assert post_webhook(webhooks, created)["statusCode"] == 200
    close(webhooks, dispute["id"], evidence)
    [closing] = sent(webhooks, dispute["id"], "charge.dispute.closed")
    for stripe_event in (closing, created, closing):  # redelivered, and the created one late again
        assert post_webhook(webhooks, stripe_event)["statusCode"] == 200
    assert [t for t, _ in recorded(store, dispute["id"])] == ["DisputeOpened", closed]


def test_a_stale_created_payload_read_after_the_close_records_both(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    dispute = dispute_of(webhooks, paid())
    close(webhooks, dispute["id"], "winning_evidence")
    [created] = sent(webhooks, dispute["id"], "charge.dispute.created")  # says needs_response: not trusted
    assert post_webhook(webhooks, created)["statusCode"] == 200
    assert [t for t, _ in recorded(store, dispute["id"])] == ["DisputeOpened", "DisputeWon"]


def test_a_dispute_of_a_payment_not_recorded_here_yet_is_left_for_stripe_to_retry(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    order_id = paid()
    dispute = dispute_of(webhooks, order_id)
    [created] = sent(webhooks, dispute["id"], "charge.dispute.created")
    [intent] = webhooks.intents_with(payment_order_id=order_id)
    webhooks._intents[intent["id"]]["metadata"]["payment_order_id"] = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"
    assert post_webhook(webhooks, created)["statusCode"] == 503
    assert recorded(store, dispute["id"]) == []


def test_a_dispute_of_a_payment_not_ours_is_acknowledged_and_nothing_recorded(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    order_id = paid()
    dispute = dispute_of(webhooks, order_id)
    [created] = sent(webhooks, dispute["id"], "charge.dispute.created")
    [intent] = webhooks.intents_with(payment_order_id=order_id)
    webhooks._intents[intent["id"]]["metadata"].clear()  # made elsewhere (the Dashboard, another integration)
    assert post_webhook(webhooks, created)["statusCode"] == 200
    assert recorded(store, dispute["id"]) == []


def test_a_dispute_webhook_that_does_not_verify_is_a_400(webhooks: FakePsp, store: InMemoryEventStore) -> None:
    dispute = dispute_of(webhooks, paid())
    [created] = sent(webhooks, dispute["id"], "charge.dispute.created")
    assert post_webhook(webhooks, created, secret="whsec_someone_else")["statusCode"] == 400
    assert recorded(store, dispute["id"]) == []
