"""Dead letters: what each consumer's DLQ holds, and moving it back to the consumer's queue.

Each consumer reads `<name>-inbox` and parks a message in `<name>-dlq` after `max_receive_count` failed
receives (contracts/consumers.json). Listing peeks: messages are received with a short visibility timeout and
made visible again at once, so nothing is consumed. Redrive uses SQS's own move task in AWS; against an endpoint
without it (moto: the local stack) each message is sent to the inbox, then deleted from the DLQ — a crash in between
leaves a duplicate, which the consumers' idempotency absorbs: each is processed once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from payments_shared.contracts import violations
from payments_shared.topology import dead_letters, inbox

PEEK_VISIBILITY_S = 30


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


def list_letters(sqs: Any, consumers: Iterable[str], max_receive_count: int) -> list[Letter]:
    now = time.time()
    return [
        _letter(consumer, message, max_receive_count, now)
        for consumer in consumers
        for message in _peek(sqs, _queue_url(sqs, dead_letters(consumer)))
    ]


def redrive(
    sqs: Any,
    consumer: str,
    *,
    dry_run: bool = False,
    move_task: bool = True,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, Any]:
    """Move a consumer's dead letters back to its inbox; returns what was (or would be) moved and how.

    move_task: SQS's own StartMessageMoveTask (asynchronous, done by SQS); without it (an endpoint that lacks
    the API, such as moto), each message is sent to the inbox and then deleted from the DLQ."""
    dlq_url, inbox_url = _queue_url(sqs, dead_letters(consumer)), _queue_url(sqs, inbox(consumer))
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
