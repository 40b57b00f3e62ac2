"""The local run's webhook check and panel: an event recorded but never acknowledged at its merchant's receiver is
a problem (duplicates are not), and the dashboard's webhooks panel shows delivered, retried and parked."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from devstack import dashboard
from devstack.webhook_receiver import WebhookReceiver
from devstack.webhooks import Webhooks, _missing
from notifier.delivery.adapters.http_sender import UrllibSender
from notifier.domain.signature import HEADER, sign
from notifier.domain.url_policy import resolve_target


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    receiver = WebhookReceiver().start()
    receiver.expect("merchant-001", "whsec_one")
    yield Webhooks(receiver, endpoints={"merchant-001": "we_" + "0" * 24})
    receiver.stop()


def deliver(hooks: Webhooks, event_id: str, secret: str = "whsec_one") -> None:  # noqa: S107 - a test secret
    body = json.dumps({"id": event_id, "object": "event", "type": "payment.succeeded"}).encode()
    target = resolve_target(hooks.receiver.url("merchant-001"), allow_loopback=True)
    header = sign([secret], int(time.time()), body)
    UrllibSender(connect_timeout_s=1, response_timeout_s=2).send(
        target, body, {"Content-Type": "application/json", HEADER: header}
    )


def test_an_event_recorded_but_never_acknowledged_is_missing_and_a_duplicate_is_not(hooks: Webhooks) -> None:
    # Given three recorded events, one delivered twice, one refused (a wrong secret), one never sent
    deliver(hooks, "evt_1")
    deliver(hooks, "evt_1")
    deliver(hooks, "evt_2", secret="whsec_wrong")
    # When the run checks them
    missing = _missing(hooks, {"merchant-001": {"evt_1", "evt_2", "evt_3"}})
    # Then the refused one and the unsent one are missing; the duplicate is not a problem
    assert missing == {"merchant-001": {"evt_2", "evt_3"}}
    assert _missing(hooks, {"merchant-001": {"evt_1"}}) == {}


def test_events_of_a_merchant_without_an_endpoint_are_not_expected(hooks: Webhooks) -> None:
    assert _missing(hooks, {"merchant-002": {"evt_9"}}) == {}


def test_the_webhooks_panel_shows_delivered_retried_and_parked() -> None:
    received = {"requests": 9, "acknowledged": 5, "refused_signature": 0, "failed": 1, "dropped": 3}
    page = dashboard.webhooks_panel(received, parked=2)
    assert 'id="webhooks"' in page
    assert 'id="webhooks-delivered">5<' in page
    assert 'id="webhooks-retried">4<' in page  # 3 dropped while down + one 500
    assert 'class="big bad" id="webhooks-parked">2<' in page
