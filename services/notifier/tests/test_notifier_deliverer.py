"""The deliverer with in-memory tables and a scripted sender: what each attempt's outcome makes the queue do."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from notifier.delivery.adapters.memory import (
    InMemoryDeliveryLog,
    InMemoryEndpointHealth,
    InMemoryMerchantEvents,
    InMemoryWebhookEndpoints,
)
from notifier.delivery.batch import Retry, deliver_batch
from notifier.delivery.deliverer import USER_AGENT, Deliverer
from notifier.delivery.ports import Attempt, DeliveryRequest, Endpoint, Secret, StoredEvent
from notifier.delivery.schedule import load
from notifier.domain.signature import HEADER, verify
from notifier.domain.url_policy import Target
from payments_testing.events import sqs_record

NOW = 1_800_000_000
BODY = b'{"id":"evt_1","object":"event","type":"payment.succeeded"}'
REQUEST = DeliveryRequest("merchant-1", "evt_1", "we_1")
SCHEDULE = load()


@dataclass
class ScriptedSender:
    answers: list[Attempt] = field(default_factory=list)
    sent: list[tuple[Target, bytes, dict[str, str]]] = field(default_factory=list)

    def send(self, target: Target, body: bytes, headers: dict[str, str]) -> Attempt:
        self.sent.append((target, body, headers))
        return self.answers.pop(0) if self.answers else Attempt("200", delivered=True, reachable=True)


@dataclass
class World:
    events: InMemoryMerchantEvents = field(default_factory=InMemoryMerchantEvents)
    endpoints: InMemoryWebhookEndpoints = field(default_factory=InMemoryWebhookEndpoints)
    log: InMemoryDeliveryLog = field(default_factory=InMemoryDeliveryLog)
    health: InMemoryEndpointHealth = field(default_factory=InMemoryEndpointHealth)
    sender: ScriptedSender = field(default_factory=ScriptedSender)
    now: float = NOW
    resolved: list[str] = field(default_factory=lambda: ["93.184.216.34"])

    def deliverer(self) -> Deliverer:
        return Deliverer(
            self.events,
            self.endpoints,
            self.log,
            self.health,
            self.sender,
            SCHEDULE,
            resolve=lambda host, port: self.resolved,
            clock=lambda: self.now,
        )


def endpoint(url: str = "https://hooks.example.com/in", events: tuple[str, ...] = ("*",), **kw: object) -> Endpoint:
    secrets = kw.get("secrets", (Secret("whsec_current"),))
    return Endpoint(url, events, str(kw.get("status", "enabled")), secrets)  # type: ignore[arg-type]


@pytest.fixture
def world() -> World:
    w = World()
    w.events.events[("merchant-1", "evt_1")] = StoredEvent("payment.succeeded", BODY)
    w.endpoints.endpoints[("merchant-1", "we_1")] = endpoint()
    return w


def test_a_2xx_is_delivered_logged_and_signed_over_the_stored_body(world: World) -> None:
    outcome = world.deliverer().deliver(REQUEST, receive_count=1)

    assert outcome.done and outcome.status == "200"
    target, body, headers = world.sender.sent[0]
    assert (target.host, target.port, target.addresses, body) == ("hooks.example.com", 443, ("93.184.216.34",), BODY)
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"] == USER_AGENT
    assert verify(headers[HEADER], BODY, "whsec_current", now=NOW) == NOW
    row = world.log.rows[("merchant-1", "evt_1", "we_1")]
    assert (row.attempts, row.delivered_at, row.last_status, row.parked) == (1, NOW, "200", False)


@pytest.mark.parametrize("receive_count", range(1, SCHEDULE.max_receive_count))
def test_a_failure_comes_back_after_its_scheduled_wait(world: World, receive_count: int) -> None:
    world.sender.answers = [Attempt("500", delivered=False, reachable=True)]

    outcome = world.deliverer().deliver(REQUEST, receive_count)

    assert not outcome.done and outcome.retry_in_s == SCHEDULE.retry_in(receive_count)
    assert world.log.rows[("merchant-1", "evt_1", "we_1")].last_status == "500"


def test_the_last_failed_attempt_is_logged_parked_and_left_to_the_queue_redrive(world: World) -> None:
    world.sender.answers = [Attempt("timeout", delivered=False, reachable=False)]

    outcome = world.deliverer().deliver(REQUEST, SCHEDULE.max_receive_count)

    assert not outcome.done and outcome.retry_in_s is None
    row = world.log.rows[("merchant-1", "evt_1", "we_1")]
    assert row.parked and row.last_status == "timeout"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ("deleted", "endpoint deleted"),
        ("unsubscribed", "endpoint no longer wants payment.succeeded"),
        ("disabled", "endpoint no longer wants payment.succeeded"),
        ("no event", "no such event"),
    ],
)
def test_nothing_left_to_deliver_is_done_without_a_call(world: World, change: str, status: str) -> None:
    key = ("merchant-1", "we_1")
    if change == "deleted":
        del world.endpoints.endpoints[key]
    elif change == "unsubscribed":
        world.endpoints.endpoints[key] = endpoint(events=("refund.succeeded",))
    elif change == "disabled":
        world.endpoints.endpoints[key] = endpoint(status="disabled")
    else:
        world.events.events.clear()

    outcome = world.deliverer().deliver(REQUEST, receive_count=3)

    assert outcome.done and outcome.status == status and world.sender.sent == []


def test_a_target_resolving_to_a_private_address_is_refused_and_never_called(world: World) -> None:
    world.resolved = ["93.184.216.34", "10.0.0.7"]  # a DNS answer that was public at registration now is not

    outcome = world.deliverer().deliver(REQUEST, receive_count=1)

    assert not outcome.done and outcome.status.startswith("refused: ") and "10.0.0.7" in outcome.status
    assert world.sender.sent == []
    assert world.health.health("merchant-1", "we_1").defers(NOW)


def test_during_a_rotation_both_live_secrets_sign_and_an_expired_one_does_not(world: World) -> None:
    world.endpoints.endpoints[("merchant-1", "we_1")] = endpoint(
        secrets=(Secret("whsec_new"), Secret("whsec_old", expires_at=NOW + 60), Secret("whsec_gone", NOW - 1))
    )

    world.deliverer().deliver(REQUEST, receive_count=1)

    header = world.sender.sent[0][2][HEADER]
    assert verify(header, BODY, "whsec_new", now=NOW) == verify(header, BODY, "whsec_old", now=NOW) == NOW
    assert header.count("v1=") == 2


def test_an_unreachable_endpoint_defers_its_other_deliveries_without_a_call_until_its_cooldown(world: World) -> None:
    world.events.events[("merchant-1", "evt_2")] = StoredEvent("payment.failed", BODY)
    world.sender.answers = [Attempt("timeout", delivered=False, reachable=False)]
    deliverer = world.deliverer()
    first = deliverer.deliver(REQUEST, receive_count=1)

    world.now += 5
    second = deliverer.deliver(DeliveryRequest("merchant-1", "evt_2", "we_1"), receive_count=1)

    assert first.status == "timeout" and second.status == "deferred: endpoint unreachable"
    assert len(world.sender.sent) == 1
    health = world.health.health("merchant-1", "we_1")
    assert second.retry_in_s is not None and NOW + 5 + second.retry_in_s >= health.retry_not_before
    assert ("merchant-1", "evt_2", "we_1") not in world.log.rows  # no attempt was made

    world.now = health.retry_not_before  # the probe goes out, succeeds and clears the endpoint's health
    assert deliverer.deliver(DeliveryRequest("merchant-1", "evt_2", "we_1"), receive_count=2).done
    assert not world.health.health("merchant-1", "we_1").defers(int(world.now))


def test_an_endpoint_that_answers_4xx_is_up_its_other_events_still_go(world: World) -> None:
    world.sender.answers = [Attempt("400", delivered=False, reachable=True)]
    world.deliverer().deliver(REQUEST, receive_count=1)

    assert not world.health.health("merchant-1", "we_1").defers(NOW)


class BlockingSender(ScriptedSender):
    """Holds each attempt until released, as an endpoint that has not answered yet."""

    def __init__(self, answer: Attempt) -> None:
        super().__init__(answers=[])
        self.answer, self.release, self.waiting = answer, threading.Event(), threading.Event()

    def send(self, target: Target, body: bytes, headers: dict[str, str]) -> Attempt:
        self.sent.append((target, body, headers))
        self.waiting.set()
        self.release.wait(5)
        return self.answer


@pytest.mark.parametrize(
    ("answer", "deferred_after"),
    [
        (Attempt("timeout", delivered=False, reachable=False), True),
        (Attempt("200", delivered=True, reachable=True), False),
    ],
)
def test_an_attempt_still_pending_marks_the_endpoint_failing_until_it_answers(
    world: World, answer: Attempt, deferred_after: bool
) -> None:
    world.sender = BlockingSender(answer)
    deliverer = Deliverer(
        world.events, world.endpoints, world.log, world.health, world.sender, SCHEDULE,
        resolve=lambda host, port: ["93.184.216.34"], clock=lambda: NOW, suspect_after_s=0.01,
    )  # fmt: skip
    pending = threading.Thread(target=deliverer.deliver, args=(REQUEST, 1))
    pending.start()
    world.sender.waiting.wait(5)
    while not world.health.health("merchant-1", "we_1").defers(NOW):  # the suspicion lands while it waits
        time.sleep(0.01)
    world.events.events[("merchant-1", "evt_2")] = StoredEvent("payment.failed", BODY)
    meanwhile = deliverer.deliver(DeliveryRequest("merchant-1", "evt_2", "we_1"), receive_count=1)

    world.sender.release.set()
    pending.join()

    assert meanwhile.status == "deferred: endpoint unreachable" and len(world.sender.sent) == 1
    assert world.health.health("merchant-1", "we_1").defers(NOW) is deferred_after


def test_a_batch_tries_an_unreachable_endpoint_once_and_defers_its_other_records(world: World) -> None:
    for n in range(2, 5):
        world.events.events[("merchant-1", f"evt_{n}")] = StoredEvent("payment.succeeded", BODY)
    world.events.events[("merchant-2", "evt_9")] = StoredEvent("payment.succeeded", BODY)
    world.endpoints.endpoints[("merchant-2", "we_2")] = endpoint("https://other.example.com/in")
    world.sender.answers = [Attempt("timeout", delivered=False, reachable=False)]
    messages = [("merchant-1", f"evt_{n}", "we_1") for n in range(1, 5)] + [("merchant-2", "evt_9", "we_2")]
    calls: list[list[Retry]] = []

    class Visibility:
        def postpone(self, queue_arn: str, retries: Sequence[Retry]) -> list[str]:
            calls.append(list(retries))
            return []

    batch = {
        "Records": [
            sqs_record(json.dumps(dict(zip(("merchant_id", "event_id", "endpoint_id"), m, strict=True))), f"m-{i}",
                       f"rh-{i}", {"ApproximateReceiveCount": "1"}, "arn:aws:sqs:eu-west-1:1:notifier-deliveries")
            for i, m in enumerate(messages)
        ]
    }  # fmt: skip
    world.sender.answers = []  # merchant-2's endpoint answers 200; merchant-1's is made unreachable below
    original = world.sender.send

    def send(target: Target, body: bytes, headers: dict[str, str]) -> Attempt:
        if target.host == "hooks.example.com":
            world.sender.sent.append((target, body, headers))
            return Attempt("timeout", delivered=False, reachable=False)
        return original(target, body, headers)

    world.sender.send = send  # type: ignore[method-assign]
    response = deliver_batch(batch, world.deliverer(), Visibility())

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == ["m-0", "m-1", "m-2", "m-3"]
    assert sum(1 for t, _, _ in world.sender.sent if t.host == "hooks.example.com") == 1
    assert [r.visibility_s for r in calls[0]] == [60, 60, 60, 60]


def test_an_endpoint_with_its_cap_of_attempts_in_flight_defers_the_next_without_a_call(world: World) -> None:
    for _ in range(3):
        assert world.health.claim("merchant-1", "we_1", now=NOW, cap=3, lease_s=15)

    outcome = world.deliverer().deliver(REQUEST, receive_count=1)

    assert (outcome.status, outcome.retry_in_s, world.sender.sent) == ("deferred: endpoint busy", 60, [])
    world.health.release("merchant-1", "we_1")
    assert world.deliverer().deliver(REQUEST, receive_count=2).done
    assert world.health.in_flight[("merchant-1", "we_1")][0] == 2  # its own claim released after the attempt


def test_a_malformed_message_is_reported_alone_and_left_to_the_queue(world: World) -> None:
    calls: list[list[Retry]] = []

    class Visibility:
        def postpone(self, queue_arn: str, retries: Sequence[Retry]) -> list[str]:
            calls.append(list(retries))
            return []

    arn = "arn:aws:sqs:eu-west-1:1:notifier-deliveries"
    good = json.dumps({"merchant_id": "merchant-1", "event_id": "evt_1", "endpoint_id": "we_1"})
    batch = {
        "Records": [
            sqs_record("not json", "m-bad", "rh-0", {"ApproximateReceiveCount": "1"}, arn),
            sqs_record(json.dumps({"merchant_id": "merchant-1"}), "m-short", "rh-1", {}, arn),
            sqs_record(good, "m-good", "rh-2", {"ApproximateReceiveCount": "1"}, arn),
        ]
    }

    response = deliver_batch(batch, world.deliverer(), Visibility())

    # Its visibility is left alone: it comes back after the queue's timeout and, after its receives, is parked.
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-bad"}, {"itemIdentifier": "m-short"}]}
    assert calls == [] and len(world.sender.sent) == 1
