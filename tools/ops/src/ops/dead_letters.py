"""Dead letters: what each consumer's DLQ holds, and moving it back to the consumer's queue.

Each consumer reads `<name>-inbox` and parks a message in `<name>-dlq` after `max_receive_count` failed
receives (contracts/consumers.json). The notifier's deliveries queue too (`notifier-deliveries`, no rule feeds
it): it parks a webhook delivery in `notifier-deliveries-dlq` after the retry schedule's last attempt, and a
redrive sends it back to `notifier-deliveries`, where the deliverer attempts it again.

Listing peeks: messages are received with a short visibility timeout and made visible again at once, so nothing
is consumed. Redrive uses SQS's own move task in AWS; against an endpoint without it (moto: the local stack) each
message is sent to the queue, then deleted from the DLQ — a crash in between leaves a duplicate, which the
consumers' idempotency absorbs (each is processed once; a webhook may go out twice, as merchants are told).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from notifier.delivery import schedule
from payments_shared.contracts import violations
from payments_shared.topology import CONSUMERS_FILE, consumers, dead_letters, inbox

PEEK_VISIBILITY_S = 30


@dataclass(frozen=True)
class ParkingQueue:
    """A queue whose redrive parks what its function gave up on: the name `--consumer` takes, the queue a
    redrive sends back to, its DLQ, after how many receives it parks, and whether it holds webhook deliveries
    (the notifier's messages: merchant, event and endpoint ids) rather than EventBridge events."""

    name: str
    queue: str
    dlq: str
    max_receive_count: int
    deliveries: bool = False


def parking_queues() -> list[ParkingQueue]:
    """Every consumer's inbox (contracts/consumers.json), then the notifier's deliveries queue, named as the
    Terraform names them (its maxReceiveCount: the retry schedule's attempts, as the Terraform reads it)."""
    queue, subscriptions = consumers()
    found = [ParkingQueue(s.name, inbox(s.name), dead_letters(s.name), queue.max_receive_count) for s in subscriptions]
    deliveries = json.loads(CONSUMERS_FILE.read_text())["notifier_deliveries"]["queue"]
    attempts = schedule.load().max_receive_count
    return [*found, ParkingQueue(deliveries, deliveries, dead_letters(deliveries), attempts, deliveries=True)]


@dataclass(frozen=True)
class Letter:
    consumer: str
    message_id: str
    event_id: str | None
    event_type: str | None
    payment_order_id: str | None
    age_s: float
    receive_count: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _queue_url(sqs: Any, name: str) -> str:
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def _delivery_letter(consumer: str, message: dict[str, Any], max_receive_count: int, now: float) -> Letter:
    """A webhook delivery parked after every attempt of the schedule: the endpoint failed, not our code."""
    attributes = message.get("Attributes", {})
    try:
        delivery = json.loads(message["Body"])
        merchant, event_id, endpoint = (str(delivery[k]) for k in ("merchant_id", "event_id", "endpoint_id"))
        reason = (
            f"webhook delivery failed all {max_receive_count} attempts to endpoint {endpoint} of merchant {merchant}:"
            f" GET /events/{event_id} shows each attempt's answer; redrive once the endpoint answers again"
        )
    except (ValueError, KeyError, TypeError):
        event_id, reason = None, "not a webhook delivery: unreadable body"
    return Letter(
        consumer=consumer,
        message_id=message["MessageId"],
        event_id=event_id,
        event_type=None,
        payment_order_id=None,
        age_s=round(now - int(attributes.get("SentTimestamp", now * 1000)) / 1000, 1),
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        reason=reason,
    )


def _letter(consumer: str, message: dict[str, Any], max_receive_count: int, now: float) -> Letter:
    try:
        event = json.loads(message["Body"])
        detail = event.get("detail") or {}
        detail = json.loads(detail) if isinstance(detail, str) else detail
    except (ValueError, AttributeError):
        detail = {}
    attributes = message.get("Attributes", {})
    broken = violations(detail) if detail else []
    reason = (
        f"refused by its contract ({'; '.join(broken)}): fix the producer, then redrive"
        if broken
        else f"failed {max_receive_count} deliveries to {consumer}: the function's log has the error for this "
        "event_id"
        if detail
        else "not an EventBridge event: unreadable body"
    )
    return Letter(
        consumer=consumer,
        message_id=message["MessageId"],
        event_id=detail.get("event_id"),
        event_type=detail.get("event_type"),
        payment_order_id=(detail.get("data") or {}).get("payment_order_id"),
        age_s=round(now - int(attributes.get("SentTimestamp", now * 1000)) / 1000, 1),
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        reason=reason,
    )


def _peek(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message of a queue, received with a short visibility, then made visible again."""
    seen: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=PEEK_VISIBILITY_S,
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        seen.update((m["MessageId"], m) for m in batch)
        if not fresh:
            break
    handles = [m["ReceiptHandle"] for m in seen.values()]
    for start in range(0, len(handles), 10):
        entries = [
            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
            for i, h in enumerate(handles[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
    return list(seen.values())


def list_letters(sqs: Any, queues: Iterable[ParkingQueue]) -> list[Letter]:
    now = time.time()
    return [
        (_delivery_letter if q.deliveries else _letter)(q.name, message, q.max_receive_count, now)
        for q in queues
        for message in _peek(sqs, _queue_url(sqs, q.dlq))
    ]


def redrive(
    sqs: Any,
    parking: ParkingQueue,
    *,
    dry_run: bool = False,
    move_task: bool = True,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, Any]:
    """Move a queue's dead letters back to it; returns what was (or would be) moved and how.

    move_task: SQS's own StartMessageMoveTask (asynchronous, done by SQS); without it (an endpoint that lacks
    the API, such as moto), each message is sent to the queue and then deleted from the DLQ."""
    consumer = parking.name
    dlq_url, inbox_url = _queue_url(sqs, parking.dlq), _queue_url(sqs, parking.queue)
    waiting = int(
        sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    if dry_run or not waiting:
        return {"consumer": consumer, "method": "dry-run" if dry_run else "none", "waiting": waiting, "moved": 0}
    if move_task:
        arns = [
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            for url in (dlq_url, inbox_url)
        ]
        task = sqs.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])
        return {"consumer": consumer, "method": "sqs-move-task", "waiting": waiting, "task": task["TaskHandle"]}
    moved = 0
    while batch := sqs.receive_message(
        QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=PEEK_VISIBILITY_S
    ).get("Messages", []):
        for message in batch:
            sqs.send_message(QueueUrl=inbox_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
            progress(moved, max(waiting, moved))
    return {"consumer": consumer, "method": "send-then-delete", "waiting": waiting, "moved": moved}
