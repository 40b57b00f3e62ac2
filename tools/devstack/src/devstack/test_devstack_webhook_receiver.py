"""The local webhook receiver: verifies what the deliverer signs, records every request, misbehaves on demand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from devstack.webhook_receiver import WebhookReceiver
from notifier.delivery.adapters.http_sender import UrllibSender
from notifier.delivery.ports import Attempt
from notifier.domain.signature import HEADER, sign
from notifier.domain.url_policy import resolve_target


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver(clock: Clock) -> Iterator[WebhookReceiver]:
    running = WebhookReceiver(clock=clock).start()
    running.expect("merchant-1", "whsec_one")
    yield running
    running.stop()


def post(
    receiver: WebhookReceiver,
    endpoint: str,
    event_id: str,
    secret: str,
    *,
    tamper: bool = False,
    response_timeout_s: float = 5.0,  # a loaded machine's stall is no timeout; the slow test sets its own
) -> Attempt:
    body = json.dumps({"id": event_id, "object": "event", "type": "payment.succeeded"}).encode()
    header = sign([secret], int(time.time()), body)
    sent = body.replace(b"succeeded", b"failed") if tamper else body
    target = resolve_target(receiver.url(endpoint), allow_loopback=True)
    sender = UrllibSender(connect_timeout_s=1, response_timeout_s=response_timeout_s)
    return sender.send(target, sent, {"Content-Type": "application/json", HEADER: header})


def test_a_signed_delivery_is_verified_acknowledged_and_recorded(receiver: WebhookReceiver) -> None:
    assert post(receiver, "merchant-1", "evt_1", "whsec_one").status == "200"
    assert post(receiver, "merchant-1", "evt_1", "whsec_one").status == "200"  # a duplicate, acknowledged again

    assert receiver.acknowledged("merchant-1") == {"evt_1": 2}
    assert all(d.verified and d.event_type == "payment.succeeded" for d in receiver.deliveries)


def test_a_tampered_body_or_an_unknown_secret_is_refused_with_400(receiver: WebhookReceiver) -> None:
    assert post(receiver, "merchant-1", "evt_1", "whsec_one", tamper=True).status == "400"
    assert post(receiver, "merchant-1", "evt_2", "whsec_other").status == "400"
    assert receiver.acknowledged() == {} and receiver.summary()["refused_signature"] == 2


def test_after_a_rotation_both_secrets_are_accepted(receiver: WebhookReceiver) -> None:
    receiver.expect("merchant-1", "whsec_two")
    assert post(receiver, "merchant-1", "evt_1", "whsec_one").delivered
    assert post(receiver, "merchant-1", "evt_2", "whsec_two").delivered


def test_down_for_a_stretch_drops_connections_then_comes_back(receiver: WebhookReceiver, clock: Clock) -> None:
    receiver.down_for(30, endpoint="merchant-1")

    dropped = post(receiver, "merchant-1", "evt_1", "whsec_one")
    clock.now += 31
    back = post(receiver, "merchant-1", "evt_1", "whsec_one")

    assert (dropped.delivered, dropped.reachable, dropped.status.startswith("connection failed")) == (
        False,
        False,
        True,
    )
    assert back.delivered and receiver.acknowledged() == {"evt_1": 1}
    assert receiver.summary() == {"requests": 2, "acknowledged": 1, "refused_signature": 0, "failed": 0, "dropped": 1}


def test_failing_answers_500_only_for_its_endpoint(receiver: WebhookReceiver) -> None:
    receiver.expect("merchant-2", "whsec_two")
    receiver.fail_for(30, endpoint="merchant-2")

    assert post(receiver, "merchant-2", "evt_1", "whsec_two").status == "500"
    assert post(receiver, "merchant-1", "evt_1", "whsec_one").status == "200"


def test_slow_answers_after_the_delay_so_a_bounded_sender_times_out(receiver: WebhookReceiver) -> None:
    receiver.slow_for(30, delay_s=1.0)  # every endpoint; the sender waits 0.5 s

    assert post(receiver, "merchant-1", "evt_1", "whsec_one", response_timeout_s=0.5).status == "timeout"


def test_a_verified_event_is_handed_to_its_endpoints_handler_and_a_failing_handler_gets_a_retry(
    receiver: WebhookReceiver, clock: Clock
) -> None:
    handed: list[str] = []

    def handle(event: dict[str, object]) -> None:
        if event["id"] == "evt_broken":
            raise ValueError("the merchant's processing failed")
        handed.append(str(event["id"]))

    receiver.on_event("merchant-1", handle)
    assert post(receiver, "merchant-1", "evt_1", "whsec_one").status == "200"
    assert post(receiver, "merchant-1", "evt_2", "whsec_other").status == "400"  # refused: not handed
    receiver.down_for(30, endpoint="merchant-1")
    assert not post(receiver, "merchant-1", "evt_3", "whsec_one").delivered  # dropped: not handed
    clock.now += 31
    assert post(receiver, "merchant-1", "evt_broken", "whsec_one").status == "500"  # not acknowledged: sent again

    assert handed == ["evt_1"] and receiver.acknowledged() == {"evt_1": 1}
