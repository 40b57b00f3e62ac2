"""The refund's consumer and Stripe's refund webhooks in-process: the real runtime, the in-memory event store, the
Stripe adapter on the fake PSP (which signs its webhooks as Stripe does)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from dependency_injector import providers
from fake_psp import FakePsp
from finalizer_testdata import payment_initiated, post_webhook

from finalizer.domain.streams import PUBLISHED_TYPES, refund_stream
from finalizer.entrypoints import charge, refund
from payments_shared.contracts import check_contract
from payments_shared.events import utc_now
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.relay import integration_envelope
from payments_testing.events import deliver
from payments_testing.events import refund_requested as requested_at_a_fixed_time


@pytest.fixture
def webhooks(runtime: ModuleType, psp: FakePsp) -> FakePsp:
    """Stripe's webhook secret as SSM would hand it; the refund-fail card's refunds fail only when a test says."""
    runtime.container.stripe_webhook_secret.override(providers.Object(lambda: psp.webhook_secret))
    psp.refund_fail_after_s = None
    return psp


def paid(payment_method: str = "pm_card_visa") -> str:
    """A payment the finalizer charged (12.34 EUR), through its own consumer."""
    event = payment_initiated(payment_method=payment_method, card=None, payment_details=None)
    assert deliver(charge.handler, event) == []
    return str(event["detail"]["data"]["payment_order_id"])


def refund_requested(order_id: str, **fields: Any) -> dict[str, Any]:
    """The initializer's RefundRequested, published just now (an old one is first looked up at the PSP)."""
    event = requested_at_a_fixed_time(order_id, **fields)
    event["detail"]["occurred_at"] = utc_now().isoformat()
    return event


def refund_id_of(event: dict[str, Any]) -> str:
    return str(event["detail"]["data"]["refund_id"])


def recorded(store: InMemoryEventStore, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, dict(e.data)) for e in store.load(refund_stream(refund_id_of(event))).events]


def refund_events(psp: FakePsp, reference: str) -> list[dict[str, Any]]:
    """What Stripe sent about this refund: refund.failed, then charge.refund.updated."""
    return [e for e in psp.webhook_events if e["data"]["object"]["id"] == reference and e["type"] != "refund.created"]


def test_a_requested_refund_is_taken_at_the_psp_and_published_as_refund_status_updated(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    order_id = paid()
    event = refund_requested(order_id, amount="5.00")
    assert deliver(refund.handler, event) == []
    [(event_type, data)] = recorded(store, event)
    assert event_type == "RefundSucceeded" and data["status"] == "SUCCEEDED" and data["amount_minor"] == 500
    taken = psp.refund(data["psp_reference"])
    assert (taken["amount"], taken["reason"], taken["metadata"]["refund_id"]) == (
        500,
        "requested_by_customer",
        refund_id_of(event),
    )
    [stored] = store.load(refund_stream(refund_id_of(event))).events
    published = integration_envelope(stored, PUBLISHED_TYPES[stored.event_type])
    assert published.event_type == "RefundStatusUpdated" and published.data == data
    check_contract(published)  # the RefundStatusUpdated contract's data, nothing else
    assert deliver(refund.handler, event) == []  # redelivered: nothing new, no second refund
    assert len(recorded(store, event)) == 1 and psp.refunds[refund_id_of(event)] == 1


def test_a_batch_reports_only_the_refunds_that_cannot_be_done_now(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    order_id = paid()
    taken = refund_requested(order_id, amount="10.00")
    beyond = refund_requested(order_id, amount="5.00")  # 2.34 left after the first: refused by Stripe, FAILED
    unknown_payment = refund_requested("9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a")  # not charged here: retried
    malformed = refund_requested(order_id)
    malformed["detail"]["data"]["amount_minor"] = 499  # its two amounts disagree
    batch = [taken, beyond, unknown_payment, malformed]
    assert deliver(refund.handler, *batch) == [2, 3]
    assert [t for t, _ in recorded(store, taken)] == ["RefundSucceeded"]
    [(event_type, data)] = recorded(store, beyond)
    assert event_type == "RefundFailed" and str(data["failure_reason"]).startswith("amount_too_large: ")
    assert recorded(store, unknown_payment) == [] and recorded(store, malformed) == []
    assert deliver(refund.handler, *batch) == [2, 3]  # redelivered: the same two, nothing done twice
    assert psp.refunds[refund_id_of(taken)] == 1 and psp.refunds[refund_id_of(beyond)] == 0
    assert psp.requests[refund_id_of(unknown_payment)] == 0 and psp.requests[refund_id_of(malformed)] == 0


def test_a_refund_of_a_charged_back_payment_that_slipped_past_the_api_is_failed_once(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    # The initializer refuses while it knows the dispute is open; one asked before the dispute reached it meets
    # Stripe's charge_disputed ("The charge you're attempting to refund has been charged back"): FAILED, not retried.
    event = refund_requested(paid("pm_card_createDispute"), amount="5.00")
    assert deliver(refund.handler, event) == []
    [(event_type, data)] = recorded(store, event)
    assert (event_type, data["status"]) == ("RefundFailed", "FAILED")
    assert str(data["failure_reason"]).startswith("charge_disputed: ")
    assert deliver(refund.handler, event) == []  # redelivered: nothing new, Stripe not asked again
    assert (
        len(recorded(store, event)) == 1 and psp.requests[refund_id_of(event)] == 1 and sum(psp.refunds.values()) == 0
    )


def test_a_psp_without_an_answer_is_reported_and_the_redelivery_refunds_once(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    event = refund_requested(paid())
    psp.script(refund_id_of(event), ["503"] * 3)  # every attempt of the SDK
    assert deliver(refund.handler, event) == [0]
    assert recorded(store, event) == []
    assert deliver(refund.handler, event) == []
    assert psp.refunds[refund_id_of(event)] == 1 and [t for t, _ in recorded(store, event)] == ["RefundSucceeded"]


def test_a_refund_that_fails_later_is_reversed_once_whatever_webhooks_come(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    event = refund_requested(paid("pm_card_refundFail"))
    assert deliver(refund.handler, event) == []
    reference = recorded(store, event)[0][1]["psp_reference"]
    webhooks.fail_refund(reference)
    sent = refund_events(webhooks, reference)
    assert [e["type"] for e in sent] == ["refund.failed", "charge.refund.updated"]
    for stripe_event in [*sent, sent[0]]:  # both events, then the first again (Stripe redelivers)
        assert post_webhook(webhooks, stripe_event)["statusCode"] == 200
    events = recorded(store, event)
    assert [t for t, _ in events] == ["RefundSucceeded", "RefundReversed"]
    assert events[1][1]["status"] == "REVERSED" and events[1][1]["failure_reason"] == "expired_or_canceled_card"


def test_a_stale_payload_is_not_trusted_the_refund_is_re_read(webhooks: FakePsp, store: InMemoryEventStore) -> None:
    event = refund_requested(paid("pm_card_refundFail"))
    deliver(refund.handler, event)
    reference = recorded(store, event)[0][1]["psp_reference"]
    forged = {
        "id": "evt_forged_but_signed",
        "object": "event",
        "type": "refund.failed",
        "data": {"object": {**webhooks.refund(reference), "status": "failed"}},  # Stripe says succeeded
    }
    assert post_webhook(webhooks, forged)["statusCode"] == 200
    assert [t for t, _ in recorded(store, event)] == ["RefundSucceeded"]


def test_a_refund_that_is_not_ours_is_acknowledged_and_nothing_is_recorded(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    order_id = paid("pm_card_refundFail")
    [intent] = webhooks.intents_with(payment_order_id=order_id)
    status, theirs, _, _ = webhooks._create_refund(None, {"payment_intent": intent["id"], "amount": "100"}, "req_x")
    assert status == 200
    webhooks.fail_refund(theirs["id"])
    appended: list[object] = []
    store.subscribe(appended.append)
    for stripe_event in refund_events(webhooks, theirs["id"]):
        assert post_webhook(webhooks, stripe_event)["statusCode"] == 200
    assert appended == []


def test_a_webhook_before_the_refunds_answer_is_recorded_is_a_503_so_stripe_retries(
    webhooks: FakePsp, store: InMemoryEventStore
) -> None:
    order_id = paid("pm_card_refundFail")
    event = refund_requested(order_id, amount="5.00")
    [intent] = webhooks.intents_with(payment_order_id=order_id)
    metadata = {"refund_id": refund_id_of(event), "payment_order_id": order_id}
    params = {"payment_intent": intent["id"], "amount": "500", "metadata": metadata, "reason": "requested_by_customer"}
    status, taken, _, _ = webhooks._create_refund(refund_id_of(event), params, "req_y")  # the consumer's request
    assert status == 200
    webhooks.fail_refund(taken["id"])
    [failed, _] = refund_events(webhooks, taken["id"])
    assert post_webhook(webhooks, failed)["statusCode"] == 503
    assert deliver(refund.handler, event) == []  # the consumer records Stripe's first answer (succeeded)
    assert post_webhook(webhooks, failed)["statusCode"] == 200  # Stripe's retry
    assert [t for t, _ in recorded(store, event)] == ["RefundSucceeded", "RefundReversed"]


def test_a_refund_webhook_that_does_not_verify_is_a_400(webhooks: FakePsp, store: InMemoryEventStore) -> None:
    event = refund_requested(paid("pm_card_refundFail"))
    deliver(refund.handler, event)
    reference = recorded(store, event)[0][1]["psp_reference"]
    webhooks.fail_refund(reference)
    [failed, _] = refund_events(webhooks, reference)
    assert post_webhook(webhooks, failed, secret="whsec_other")["statusCode"] == 400
    assert [t for t, _ in recorded(store, event)] == ["RefundSucceeded"]
