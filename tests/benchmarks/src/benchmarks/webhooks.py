"""Webhooks: one dead endpoint among N live ones must not delay the live ones' deliveries (issue 31).

The real deliverer (signing, url_policy, the bounded urllib3 sender with its deployed bounds: 2 s connect, 5 s
response) with in-memory tables, behind a simulated event source mapping: POLLERS concurrent batch takers of
up to 10 messages each from one queue, messages arriving at a steady rate. The live endpoints are paths on the
devstack's receiver (which verifies every signature); the dead one is either a port nothing listens on
(connection refused) or a socket that accepts connections and never answers (each attempt waits out the 5 s
response bound). Measured per live message: arrival → its 2xx. Figures, from the same run, rounds interleaved:
the live ones' p50 and p99 without a dead endpoint and with each kind, the p99 ratio, and how many HTTP attempts
the dead endpoint got (the per-endpoint health defers the rest without a call); and, as the control, the
timing-out endpoint without the health short-circuit (every one of its messages waits out the bounds).
"""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from devstack.webhook_receiver import WebhookReceiver

from benchmarks.measure import percentile
from notifier.delivery.adapters.http_sender import UrllibSender
from notifier.delivery.adapters.memory import (
    InMemoryDeliveryLog,
    InMemoryEndpointHealth,
    InMemoryMerchantEvents,
    InMemoryWebhookEndpoints,
)
from notifier.delivery.batch import Retry, deliver_batch
from notifier.delivery.deliverer import Deliverer, Outcome
from notifier.delivery.health import HEALTHY, EndpointHealth
from notifier.delivery.ports import DeliveryRequest, Endpoint, Secret, StoredEvent
from notifier.delivery.schedule import load

POLLERS = 10  # concurrent batches: the event source mapping's maximum_concurrency (contracts/consumers.json)
BATCH = 10
RATE_PER_S = 100.0
SECRET = "whsec_benchmark"
# (name, every n-th message to the dead endpoint given the live count, health short-circuit on): the dead
# endpoint as one merchant among the others (its fair share), then as a busy merchant (a fifth of all traffic),
# with and without the per-endpoint health (the control).
VARIANTS = [
    ("refused", lambda live: live + 1, True),
    ("timing_out", lambda live: live + 1, True),
    ("timing_out_no_health", lambda live: live + 1, False),
    ("timing_out_busy", lambda live: 5, True),
    ("timing_out_busy_no_health", lambda live: 5, False),
]
ARN = "arn:aws:sqs:eu-west-1:000000000000:notifier-deliveries"


class _NoVisibility:
    """The queue's re-scheduling is not what is measured: failed messages come back hours later."""

    def postpone(self, queue_arn: str, retries: Sequence[Retry]) -> list[str]:
        return []


@contextmanager
def _dead_endpoint(kind: str) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        if kind == "timing_out":
            sock.listen(64)  # the kernel completes the handshakes; no one ever reads or answers
            yield f"http://127.0.0.1:{port}/dead"
            return
    yield f"http://127.0.0.1:{port}/dead"  # closed: connection refused


class _NoHealth:
    """The control: no per-endpoint health or in-flight cap, every message of the dead endpoint is attempted."""

    def claim(self, merchant_id: str, endpoint_id: str, *, now: int, cap: int, lease_s: int) -> bool:
        return True

    def release(self, merchant_id: str, endpoint_id: str) -> None:
        pass

    def health(self, merchant_id: str, endpoint_id: str) -> EndpointHealth:
        return HEALTHY

    def save(self, merchant_id: str, endpoint_id: str, health: EndpointHealth) -> None:
        pass

    def clear(self, merchant_id: str, endpoint_id: str) -> None:
        pass


def _round(
    receiver: WebhookReceiver,
    live: int,
    events_per_endpoint: int,
    dead_url: str | None,
    *,
    dead_every: int = 0,
    health: bool = True,
) -> dict[str, Any]:
    """dead_every: every n-th message goes to the dead endpoint (its share of the traffic); 0: none."""
    events, endpoints = InMemoryMerchantEvents(), InMemoryWebhookEndpoints()
    requests: list[DeliveryRequest] = []
    names = [f"live-{n:03d}" for n in range(live)]
    for name in [*names, "dead"]:
        url = dead_url if name == "dead" else receiver.url(name)
        endpoints.endpoints[(name, "we_1")] = Endpoint(str(url), ("*",), "enabled", (Secret(SECRET),))

    def add(name: str, n: int) -> None:
        event_id = f"evt_{n:06d}_{name}_{time.monotonic_ns()}"
        body = json.dumps({"id": event_id, "object": "event", "type": "payment.succeeded"}).encode()
        events.events[(name, event_id)] = StoredEvent("payment.succeeded", body)
        requests.append(DeliveryRequest(name, event_id, "we_1"))

    for e in range(events_per_endpoint):
        for name in names:  # interleaved: the dead endpoint's messages arrive among everyone else's
            if dead_url and dead_every and len(requests) % dead_every == dead_every - 1:
                add("dead", len(requests))
            add(name, e)
    sender = UrllibSender()  # the deployed bounds
    deliverer = Deliverer(
        events,
        endpoints,
        InMemoryDeliveryLog(),
        InMemoryEndpointHealth() if health else _NoHealth(),
        sender,
        load(),
        allow_loopback=True,
    )
    dead_attempts = 0
    original_send = sender.send

    def counting_send(*args: Any) -> Any:
        nonlocal dead_attempts
        if args[0].url == dead_url:
            dead_attempts += 1
        return original_send(*args)

    sender.send = counting_send  # type: ignore[method-assign,assignment]

    queue: deque[tuple[float, dict[str, Any]]] = deque()
    arrived: dict[str, float] = {}
    latencies: list[float] = []
    lock, all_queued = threading.Lock(), threading.Event()

    def on_outcome(record: dict[str, Any], outcome: Outcome | Exception) -> None:
        if isinstance(outcome, Outcome) and outcome.done and outcome.status == "200":
            with lock:
                latencies.append((time.perf_counter() - arrived[record["messageId"]]) * 1000)

    def poller() -> None:
        while True:
            with lock:
                batch = [queue.popleft()[1] for _ in range(min(BATCH, len(queue)))]
            if not batch:
                if all_queued.is_set():
                    return
                time.sleep(0.002)
                continue
            deliver_batch({"Records": batch}, deliverer, _NoVisibility(), on_outcome=on_outcome)

    threads = [threading.Thread(target=poller, daemon=True) for _ in range(POLLERS)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    for n, request in enumerate(requests):
        due = started + n / RATE_PER_S
        time.sleep(max(0.0, due - time.perf_counter()))
        record: dict[str, Any] = {
            "messageId": f"m-{n}",
            "receiptHandle": f"rh-{n}",
            "body": json.dumps(request.__dict__),
            "attributes": {"ApproximateReceiveCount": "1"},
            "eventSourceARN": ARN,
        }
        with lock:
            arrived[record["messageId"]] = time.perf_counter()
            queue.append((arrived[record["messageId"]], record))
    all_queued.set()
    for thread in threads:
        thread.join()
    expected = live * events_per_endpoint
    if len(latencies) != expected:
        raise AssertionError(f"{len(latencies)} live deliveries acknowledged, expected {expected}")
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "dead_messages": sum(1 for r in requests if r.merchant_id == "dead"),
        "dead_attempts": dead_attempts,
    }


def run(live: int = 20, events_per_endpoint: int = 10, rounds: int = 3) -> dict[str, Any]:
    receiver = WebhookReceiver().start()
    for n in range(live):
        receiver.expect(f"live-{n:03d}", SECRET)
    figures: dict[str, list[dict[str, Any]]] = {"none": [], **{kind: [] for kind, _, _ in VARIANTS}}
    try:
        for _ in range(rounds):  # interleaved, so the machine's drift hits each variant alike
            figures["none"].append(_round(receiver, live, events_per_endpoint, None))
            for kind, every, health in VARIANTS:
                with _dead_endpoint(kind.split("_busy")[0].removesuffix("_no_health")) as url:
                    figures[kind].append(
                        _round(receiver, live, events_per_endpoint, url, dead_every=every(live), health=health)
                    )
    finally:
        receiver.stop()
    if receiver.summary()["refused_signature"]:
        raise AssertionError("the receiver refused a signature the deliverer made")

    def median(kind: str, key: str) -> float:
        return statistics.median(f[key] for f in figures[kind])

    out: dict[str, Any] = {"live_endpoints": live, "messages_per_endpoint": events_per_endpoint, "rounds": rounds}
    out["live_p50_ms_alone"], out["live_p99_ms_alone"] = median("none", "p50_ms"), median("none", "p99_ms")
    for kind, _, _ in VARIANTS:
        out[f"live_p50_ms_with_{kind}"] = median(kind, "p50_ms")
        out[f"live_p99_ms_with_{kind}"] = median(kind, "p99_ms")
        out[f"p99_ratio_with_{kind}"] = median(kind, "p99_ms") / max(median("none", "p99_ms"), 1e-9)
        out[f"dead_{kind}_messages"] = median(kind, "dead_messages")
        out[f"dead_{kind}_http_attempts"] = median(kind, "dead_attempts")
    return out
