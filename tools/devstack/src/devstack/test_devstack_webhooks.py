"""The local run's webhook check and panel: an event recorded that reached its merchant neither by a push nor by
GET /events is a problem (duplicates are not), the figures per receiver kind, the catching-up back end's own
problems, and the dashboard's webhooks panel shows delivered, retried and parked."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from devstack import dashboard
from devstack.webhook_catchup import CatchingUpMerchant
from devstack.webhook_receiver import WebhookReceiver
from devstack.webhooks import Webhooks, _catch_up_problems, _missing, kinds
from notifier.delivery.adapters.http_sender import UrllibSender
from notifier.domain.signature import HEADER, sign
from notifier.domain.url_policy import resolve_target


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    receiver = WebhookReceiver().start()
    receiver.expect("merchant-001", "whsec_one")
    yield Webhooks(receiver, endpoints={"merchant-001": "we_" + "0" * 24})
    receiver.stop()


def deliver(
    hooks: Webhooks,
    event_id: str,
    secret: str = "whsec_one",  # noqa: S107 - a test secret
    merchant: str = "merchant-001",
) -> None:
    body = json.dumps({"id": event_id, "object": "event", "type": "payment.succeeded", "created": 1000}).encode()
    target = resolve_target(hooks.receiver.url(merchant), allow_loopback=True)
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


@pytest.fixture
def catching_up(hooks: Webhooks) -> Webhooks:
    """merchant-002's back end catches up by GET /events (its endpoint on the same receiver)."""
    hooks.endpoints["merchant-002"] = "we_" + "1" * 24
    hooks.receiver.expect("merchant-002", "whsec_two")
    hooks.catching_up, hooks.back_end = "merchant-002", CatchingUpMerchant(process=hooks._process)
    hooks.receiver.on_event("merchant-002", hooks.back_end.pushed)
    return hooks


def pulled(hooks: Webhooks, *event_ids: str) -> None:
    """The back end's catch-up, GET /events listing these events."""
    assert hooks.back_end is not None
    page = {"data": [{"id": e, "created": 1000} for e in event_ids], "has_more": False}
    hooks.back_end.catch_up(lambda query: (200, page))


def test_an_event_caught_up_by_get_events_reached_its_merchant_and_its_retry_is_a_duplicate(
    catching_up: Webhooks,
) -> None:
    # Given merchant-002 got evt_a by a push, caught up evt_b and evt_c by GET /events, then evt_b's retry came
    deliver(catching_up, "evt_a", "whsec_two", "merchant-002")
    pulled(catching_up, "evt_c", "evt_b")
    deliver(catching_up, "evt_b", "whsec_two", "merchant-002")
    deliver(catching_up, "evt_1")  # merchant-001 waits for pushes: one got, one not
    recorded = {"merchant-001": {"evt_1", "evt_2"}, "merchant-002": {"evt_a", "evt_b", "evt_c", "evt_d"}}
    # When the run checks them
    missing = _missing(catching_up, recorded)
    figures = kinds(catching_up, recorded)
    # Then only what came neither way is missing, and each kind says how its events came
    assert missing == {"merchant-001": {"evt_2"}, "merchant-002": {"evt_d"}}
    assert figures == {
        "retries": {"endpoints": 1, "recorded": 2, "pushed": 1, "pulled": 0, "duplicates": 0, "missing": 1},
        "GET /events": {"endpoints": 1, "recorded": 4, "pushed": 1, "pulled": 2, "duplicates": 1, "missing": 1},
    }
    assert catching_up.processed == {"evt_a": 1, "evt_b": 1, "evt_c": 1}
    assert _catch_up_problems(catching_up) == []


def test_the_catching_up_back_end_not_back_an_event_processed_twice_or_a_redelivery_never_pushed_are_problems(
    catching_up: Webhooks,
) -> None:
    assert _catch_up_problems(catching_up) == ["merchant-002: its back end never came back to catch up"]

    pulled(catching_up, "evt_b")
    catching_up.processed["evt_b"] += 1  # as if the dedupe had let a retry through
    catching_up.pushed_again["evt_b"] = 0  # redelivery asked, and nothing came since
    assert _catch_up_problems(catching_up) == [
        "merchant-002: evt_b processed 2 times",
        "merchant-002: evt_b redelivered after the catch-up, never pushed again",
    ]
    deliver(catching_up, "evt_b", "whsec_two", "merchant-002")
    catching_up.processed["evt_b"] = 1
    assert _catch_up_problems(catching_up) == []


def test_the_webhooks_panel_shows_delivered_retried_and_parked() -> None:
    received = {"requests": 9, "acknowledged": 5, "refused_signature": 0, "failed": 1, "dropped": 3}
    page = dashboard.webhooks_panel(received, parked=2)
    assert 'id="webhooks"' in page
    assert 'id="webhooks-delivered">5<' in page
    assert 'id="webhooks-retried">4<' in page  # 3 dropped while down + one 500
    assert 'class="big bad" id="webhooks-parked">2<' in page
