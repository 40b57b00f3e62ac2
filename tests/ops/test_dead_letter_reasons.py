"""`dlq list` says why a letter is there: the fields an event breaks its contract with, checked by the kernel's
own contract models (never the values), or where to look for the error of an event that keeps its contract."""

from __future__ import annotations

import json

from ops.dead_letters import _letter

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
