"""Merchant webhooks in the local run: every merchant registers an endpoint on the local receiver through the API,
one merchant's endpoint goes down for a stretch (retries catch it up), another's back end goes down for a stretch
and, back, catches up by GET /events instead of waiting (webhook_catchup: the retries then arrive as duplicates),
and at the end every merchant event the notifier recorded must have reached its merchant, verified, at least once
(duplicates allowed) by a push or by GET /events.

The merchants act as a merchant's back end would, each signed as itself: POST /webhook_endpoints (sent twice
under one Idempotency-Key: the same endpoint and secret must come back), GET it and the list, one secret rotation
(the receiver accepts both secrets, as a merchant would during the grace period), a spare endpoint registered and
deleted, GET /events paged through (it must list exactly what the notifier recorded), GET /events/{id} and one
redelivery.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from devstack import resources
from devstack.load import http
from devstack.moto_local import client
from devstack.sigv4 import Keyring, LocalPrincipal
from devstack.webhook_catchup import CatchingUpMerchant, Event
from devstack.webhook_receiver import WebhookReceiver

EVERY_EVENT = ["*"]
OUTAGE_S = 20.0  # one merchant's endpoint drops every connection for this stretch
PAGE = 25  # GET /events page size: a busy merchant's events span several pages


@dataclass
class Webhooks:
    """The endpoints registered (merchant -> endpoint id), the API's answers and what it should not have answered."""

    receiver: WebhookReceiver
    endpoints: dict[str, str] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    down: str | None = None  # the merchant whose endpoint was down for a stretch
    # The merchant whose back end was down for a stretch and caught up by GET /events, and that back end.
    catching_up: str | None = None
    back_end: CatchingUpMerchant | None = None
    back: threading.Thread | None = None  # its outage, then its catch-up
    processed: Counter[str] = field(default_factory=Counter)  # how often its back end processed each event
    pushed_again: dict[str, int] = field(default_factory=dict)  # redelivery asked: event -> acknowledged before
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(
        self, signer: LocalPrincipal, method: str, url: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Idempotency-Key": key} if key else None
        status, answer = http(method, url, body, headers, signer=signer)
        with self._lock:  # the catch-up calls from its own thread
            self.answers[f"{method} {status}"] += 1
        return status, answer

    def reached(self, merchant: str) -> set[str]:
        """The events that reached the merchant: acknowledged pushes, and what its back end pulled if it caught up."""
        pulled = self.back_end.first("pull") if self.back_end and merchant == self.catching_up else set()
        return set(self.receiver.acknowledged(merchant)) | pulled

    def _process(self, event: Event) -> None:
        with self._lock:
            self.processed[str(event["id"])] += 1


def register_everyone(
    api_url: str, keys: Keyring, receiver: WebhookReceiver, merchants: list[str], seed: int
) -> Webhooks:
    """One endpoint per merchant on the receiver, for every event type; the receiver told each secret."""
    hooks = Webhooks(receiver)
    for merchant in merchants:
        signer = keys.merchant(merchant)
        body = {"url": receiver.url(merchant), "enabled_events": EVERY_EVENT, "description": "local run"}
        key = f"endpoint-{seed}-{merchant}"
        first = hooks.call(signer, "POST", f"{api_url}/webhook_endpoints", body, key)
        again = hooks.call(signer, "POST", f"{api_url}/webhook_endpoints", body, key)  # a client that lost the answer
        if first[0] != 201 or first != again:
            hooks.unexpected.append(f"register {merchant}: {first}, then {again}")
            continue
        hooks.endpoints[merchant] = first[1]["id"]
        receiver.expect(merchant, first[1]["secret"])
    return hooks


def tour(api_url: str, keys: Keyring, hooks: Webhooks, seed: int) -> None:
    """The rest of the endpoints API, once, by the first merchant: read, list, rotate, a spare one deleted."""
    if not hooks.endpoints:
        return
    merchant, endpoint = next(iter(hooks.endpoints.items()))
    signer, base = keys.merchant(merchant), f"{api_url}/webhook_endpoints"
    status, shown = hooks.call(signer, "GET", f"{base}/{endpoint}")
    if status != 200 or shown.get("secret") is not None:  # the secret is shown only when created or rotated
        hooks.unexpected.append(f"GET endpoint {endpoint}: {status} {shown}")
    status, listed = hooks.call(signer, "GET", base)
    if status != 200 or [e["id"] for e in listed.get("data", [])] != [endpoint]:
        hooks.unexpected.append(f"GET endpoints of {merchant}: {status} {listed}")
    status, rotated = hooks.call(signer, "POST", f"{base}/{endpoint}/rotate_secret", {}, f"rotate-{seed}-{merchant}")
    if status != 200 or not rotated.get("secret"):
        hooks.unexpected.append(f"rotate {endpoint}: {status} {rotated}")
    else:
        hooks.receiver.expect(merchant, rotated["secret"])  # the old one still signs during the grace period
    spare_body = {"url": hooks.receiver.url(f"{merchant}-spare"), "enabled_events": ["payment.succeeded"]}
    status, spare = hooks.call(signer, "POST", base, spare_body, f"spare-{seed}-{merchant}")
    if status != 201:
        hooks.unexpected.append(f"register a spare endpoint: {status} {spare}")
        return
    hooks.receiver.expect(f"{merchant}-spare", spare["secret"])  # what it may get before the deletion lands
    for _ in range(3):  # a 5xx is safe to retry (the fault run refuses some DynamoDB transactions)
        status, deleted = hooks.call(signer, "DELETE", f"{base}/{spare['id']}")
        if status < 500:
            break
    if status != 200 or not deleted.get("deleted"):
        hooks.unexpected.append(f"DELETE {spare['id']}: {status} {deleted}")


def take_one_down(hooks: Webhooks, seconds: float = OUTAGE_S, wait_s: float = 600) -> threading.Thread | None:
    """The last merchant's endpoint drops every connection for `seconds`, from its first delivery on (so its next
    events meet the outage however slowly the run goes), and the deliverer's retries must catch it up."""
    if not hooks.endpoints:
        return None
    down = hooks.down = sorted(hooks.endpoints)[-1]

    def when_first_delivered() -> None:
        deadline = time.monotonic() + wait_s
        while not hooks.receiver.acknowledged(down) and time.monotonic() < deadline:
            time.sleep(0.2)
        hooks.receiver.down_for(seconds, down)

    thread = threading.Thread(target=when_first_delivered, name="webhook-outage", daemon=True)
    thread.start()
    return thread


def catch_up_one(
    api_url: str, keys: Keyring, hooks: Webhooks, seed: int, seconds: float = OUTAGE_S, wait_s: float = 600
) -> threading.Thread | None:
    """The second-to-last merchant's back end is down for `seconds` from the first event it processes; back, it
    does not wait for retries: it catches up by GET /events (signed as itself) and asks for the newest event it
    pulled to be pushed again. The retries and that redelivery then arrive as duplicates, acknowledged and
    ignored."""
    if len(hooks.endpoints) < 2:
        return None
    merchant = hooks.catching_up = sorted(hooks.endpoints)[-2]
    signer, back_end = keys.merchant(merchant), CatchingUpMerchant(process=hooks._process)
    hooks.back_end = back_end
    hooks.receiver.on_event(merchant, back_end.pushed)

    def list_events(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return hooks.call(signer, "GET", f"{api_url}/events?{urlencode(query)}")

    def down_then_back() -> None:
        deadline = time.monotonic() + wait_s
        while not back_end.via and time.monotonic() < deadline:
            time.sleep(0.2)
        hooks.receiver.down_for(seconds, merchant)
        time.sleep(seconds)
        pulled = back_end.catch_up(list_events)
        if pulled:  # oldest first: the newest pulled, pushed again on purpose
            newest = pulled[-1]
            before = hooks.receiver.acknowledged(merchant)[newest]
            status, queued = hooks.call(
                signer, "POST", f"{api_url}/events/{newest}/redeliver", {}, f"catch-up-{seed}-{newest}"
            )
            if status != 202 or queued.get("endpoint_ids") != [hooks.endpoints[merchant]]:
                hooks.unexpected.append(f"redeliver {newest} after the catch-up: {status} {queued}")
            else:
                hooks.pushed_again[newest] = before

    hooks.back = threading.Thread(target=down_then_back, name="webhook-catch-up", daemon=True)
    hooks.back.start()
    return hooks.back


def recorded_events() -> dict[str, set[str]]:
    """What notifier-record wrote, per merchant (read as the harness, not as a function)."""
    events: dict[str, set[str]] = {}
    for page in client("dynamodb").get_paginator("scan").paginate(TableName="merchant-events"):
        for item in page["Items"]:
            events.setdefault(item["merchant_id"]["S"], set()).add(item["event_id"]["S"])
    return events


def _queued() -> int:
    """Messages still on their way: in the notifier's inbox or its deliveries queue (visible or in flight)."""
    sqs, waiting = client("sqs"), 0
    for name in ("notifier-inbox", resources.DELIVERIES_QUEUE):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"]
        waiting += sum(int(attributes[c]) for c in counts)
    return waiting


def _missing(hooks: Webhooks, recorded: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per merchant with an endpoint, the recorded events that reached it neither by a push nor by GET /events."""
    missing = {merchant: events - hooks.reached(merchant) for merchant, events in recorded.items()}
    return {merchant: events for merchant, events in missing.items() if events and merchant in hooks.endpoints}


def settle_webhooks(hooks: Webhooks, timeout_s: float) -> None:
    """Until the catching-up merchant is back and caught up, every recorded event reached its merchant and both
    notifier queues are empty."""
    deadline = time.monotonic() + timeout_s
    if hooks.back is not None:
        hooks.back.join(timeout_s)
    while time.monotonic() < deadline:
        if not _queued() and not _missing(hooks, recorded_events()):
            return
        time.sleep(1.0)


def _paged(api_url: str, signer: LocalPrincipal, hooks: Webhooks) -> list[str]:
    """GET /events, page after page (newest first), as the merchant: every event id listed."""
    listed: list[str] = []
    while True:
        query = f"?limit={PAGE}" + (f"&starting_after={listed[-1]}" if listed else "")
        status, page = hooks.call(signer, "GET", f"{api_url}/events{query}")
        if status != 200:
            hooks.unexpected.append(f"GET /events{query}: {status} {page}")
            return listed
        listed += [event["id"] for event in page["data"]]
        if not page["has_more"]:
            return listed


def redeliver(api_url: str, signer: LocalPrincipal, hooks: Webhooks, merchant: str, event_id: str, seed: int) -> None:
    """POST /events/{id}/redeliver: queued to the merchant's one endpoint, and received once more."""
    before = hooks.receiver.acknowledged(merchant)[event_id]
    status, queued = hooks.call(
        signer, "POST", f"{api_url}/events/{event_id}/redeliver", {}, f"redeliver-{seed}-{event_id}"
    )
    if status != 202 or queued.get("endpoint_ids") != [hooks.endpoints[merchant]]:
        hooks.unexpected.append(f"redeliver {event_id}: {status} {queued}")
        return
    deadline = time.monotonic() + 30
    while hooks.receiver.acknowledged(merchant)[event_id] == before:
        if time.monotonic() > deadline:
            hooks.unexpected.append(f"redeliver {event_id}: queued, never received")
            return
        time.sleep(0.2)


def summary(api_url: str, keys: Keyring, hooks: Webhooks, seed: int, parked: int) -> dict[str, Any]:
    """What the run's webhooks did, per receiver kind too, and its problems: an event that reached its merchant
    neither by a push nor by GET /events, a signature refused, a delivery parked (parked: the deliveries DLQ's
    depth), GET /events listing other than what was recorded, the catching-up back end not back, processing an
    event twice or its redelivery not pushed, an answer the API should not have given."""
    recorded = recorded_events()
    problems = [
        f"{m}: {len(e)} recorded events never acknowledged, e.g. {sorted(e)[:3]}"
        for m, e in _missing(hooks, recorded).items()
    ]
    for merchant in hooks.endpoints:
        signer = keys.merchant(merchant)
        listed = _paged(api_url, signer, hooks)
        if len(listed) != len(set(listed)) or set(listed) != recorded.get(merchant, set()):
            problems.append(f"{merchant}: GET /events listed {len(listed)}, recorded {len(recorded.get(merchant, ()))}")
        if listed and merchant == hooks.down:  # the endpoint that was down: how its newest event's delivery went
            status, shown = hooks.call(signer, "GET", f"{api_url}/events/{listed[0]}")
            if status != 200 or not shown.get("deliveries"):
                hooks.unexpected.append(f"GET /events/{listed[0]}: {status} {shown}")
            redeliver(api_url, signer, hooks, merchant, listed[0], seed)
    received = hooks.receiver.summary()
    requests = list(hooks.receiver.deliveries)
    failed_once = {(d.endpoint, d.event_id) for d in requests if d.answered is None or d.answered >= 500}
    if received["refused_signature"]:
        problems.append(f"{received['refused_signature']} deliveries failed the signature check")
    if parked:
        problems.append(f"{parked} deliveries parked")
    problems += _catch_up_problems(hooks)
    problems += [f"unexpected answer: {u}" for u in hooks.unexpected]
    return {
        "endpoints": len(hooks.endpoints),
        "recorded": sum(len(e) for e in recorded.values()),
        "delivered": sum(len(hooks.receiver.acknowledged(m)) for m in hooks.endpoints),
        "attempts": received["requests"],
        "retried": len(failed_once),  # deliveries an attempt of which failed (dropped or 5xx) at the receiver
        "duplicates": sum(n - 1 for m in hooks.endpoints for n in hooks.receiver.acknowledged(m).values()),
        "parked": parked,
        "down": hooks.down,
        "catching_up": hooks.catching_up,
        "kinds": kinds(hooks, recorded),
        "answers": dict(hooks.answers),
        "problems": problems,
    }


def kinds(hooks: Webhooks, recorded: dict[str, set[str]]) -> dict[str, dict[str, int]]:
    """Per receiver kind, its merchants' events: recorded, first received by a push, caught up by GET /events
    (first got that way), duplicates (acknowledged again), missing (neither way). "retries": the receivers that
    wait for pushes (the one down for a stretch too); "GET /events": the back end that caught up."""
    missing = _missing(hooks, recorded)
    figures: dict[str, dict[str, int]] = {}
    for merchant in sorted(hooks.endpoints):
        events = recorded.get(merchant, set())
        acknowledged = hooks.receiver.acknowledged(merchant)
        if merchant == hooks.catching_up and hooks.back_end is not None:
            kind, pulled = "GET /events", hooks.back_end.first("pull") & events
            duplicates = hooks.back_end.duplicates
        else:
            kind, pulled = "retries", set()
            duplicates = sum(n - 1 for n in acknowledged.values())
        row = figures.setdefault(
            kind, {"endpoints": 0, "recorded": 0, "pushed": 0, "pulled": 0, "duplicates": 0, "missing": 0}
        )
        row["endpoints"] += 1
        row["recorded"] += len(events)
        row["pushed"] += len((set(acknowledged) - pulled) & events)
        row["pulled"] += len(pulled)
        row["duplicates"] += duplicates
        row["missing"] += len(missing.get(merchant, ()))
    return figures


def _catch_up_problems(hooks: Webhooks) -> list[str]:
    """The catching-up back end: it came back and caught up, processed each event once, and what it asked to be
    pushed again arrived (as one more duplicate)."""
    merchant, back_end = hooks.catching_up, hooks.back_end
    if merchant is None or back_end is None:
        return []
    problems = [f"{merchant}: GET /events while catching up: {u}" for u in back_end.unexpected]
    if not back_end.catch_ups:
        problems.append(f"{merchant}: its back end never came back to catch up")
    problems += [f"{merchant}: {e} processed {n} times" for e, n in hooks.processed.items() if n != 1]
    acknowledged = hooks.receiver.acknowledged(merchant)
    problems += [
        f"{merchant}: {e} redelivered after the catch-up, never pushed again"
        for e, before in hooks.pushed_again.items()
        if acknowledged[e] <= before
    ]
    return problems
