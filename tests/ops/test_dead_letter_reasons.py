"""`dlq list` says why a letter is there: the fields an event breaks its contract with, checked by the kernel's
own contract models (never the values), or where to look for the error of an event that keeps its contract."""

from __future__ import annotations

import json

from ops.dead_letters import _delivery_letter, _letter, parking_queues

from notifier.delivery.schedule import load
from payments_testing.events import payment_status_updated


def message(event: dict[str, object] | str) -> dict[str, object]:
    body = event if isinstance(event, str) else json.dumps(event)
    return {"MessageId": "m-1", "Body": body, "Attributes": {"SentTimestamp": "1000", "ApproximateReceiveCount": "5"}}


def test_a_letter_that_breaks_its_contract_names_the_fields() -> None:
    broken = payment_status_updated()
    del broken["detail"]["data"]["currency"]
    broken["detail"]["data"]["status"] = "4111111111111111"
    letter = _letter("wallet", message(broken), 5, now=10.0)
    assert letter.reason.startswith("refused by its contract (")
    assert "currency: Field required" in letter.reason and "status: " in letter.reason
    assert "4111111111111111" not in letter.reason
    assert (letter.receive_count, letter.age_s) == (5, 9.0)


def test_a_letter_that_keeps_its_contract_points_at_the_functions_log() -> None:
    letter = _letter("wallet", message(payment_status_updated()), 5, now=10.0)
    assert letter.reason.startswith("failed 5 deliveries to wallet") and letter.event_type == "PaymentStatusUpdated"
    assert _letter("wallet", message("not json"), 5, now=10.0).reason == "not an EventBridge event: unreadable body"


def test_a_parked_webhook_delivery_names_its_event_endpoint_and_merchant() -> None:
    body = json.dumps({"merchant_id": "m-1", "event_id": "evt_1", "endpoint_id": "we_1"})
    letter = _delivery_letter("notifier-deliveries", message(body), 17, now=10.0)
    assert (letter.consumer, letter.event_id, letter.payment_order_id) == ("notifier-deliveries", "evt_1", None)
    assert letter.reason.startswith("webhook delivery failed all 17 attempts to endpoint we_1 of merchant m-1")
    assert "GET /events/evt_1" in letter.reason
    unreadable = _delivery_letter("notifier-deliveries", message("not json"), 17, now=10.0)
    assert unreadable.reason == "not a webhook delivery: unreadable body"


def test_the_deliveries_queue_parks_after_the_retry_schedule_and_redrives_to_itself() -> None:
    """notifier-deliveries beside the consumers' inboxes, named as the Terraform names them."""
    queues = {q.name: q for q in parking_queues()}
    deliveries = queues["notifier-deliveries"]
    assert (deliveries.queue, deliveries.dlq, deliveries.deliveries) == (
        "notifier-deliveries",
        "notifier-deliveries-dlq",
        True,
    )
    assert deliveries.max_receive_count == load().max_receive_count  # retry_schedule.json, as Terraform reads it
    assert (queues["wallet"].queue, queues["wallet"].dlq, queues["wallet"].deliveries) == (
        "wallet-inbox",
        "wallet-dlq",
        False,
    )
