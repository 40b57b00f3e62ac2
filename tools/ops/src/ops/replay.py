"""Re-deliver the events of a time range to one consumer; its idempotency makes a second delivery harmless.

In an AWS account: EventBridge's own replay from the bus's archive (`<bus>-archive`, Terraform's platform),
filtered to the consumer's rule, so only its queue receives them. Locally (moto replays every archived event
to every rule and ignores the time range, so it cannot be trusted with this): the events are read from the
producers' event stores — the outbox the archive was fed from — shaped as the relay publishes them, matched
against the consumer's rule, and sent to the consumer's queue.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from finalizer.domain.streams import PUBLISHED_TYPES as FINALIZER_TYPES
from finalizer.domain.streams import SOURCE as FINALIZER_SOURCE
from initializer.domain.streams import PUBLISHED_TYPES as INITIALIZER_TYPES
from initializer.domain.streams import SOURCE as INITIALIZER_SOURCE
from ops.stores import Progress, no_progress, scan
from payments_shared.eventstore.dynamodb import EVENT, stored_event_from_item
from payments_shared.eventstore.relay import integration_envelope
from payments_shared.topology import BUS, EVENT_STORES, consumers, inbox

PATTERNS = Path("contracts/event_patterns")
PUBLISHERS = {"initializer": (INITIALIZER_SOURCE, INITIALIZER_TYPES), "finalizer": (FINALIZER_SOURCE, FINALIZER_TYPES)}
REPLAY_WAIT_S = 900


def _matcher(consumer: str) -> Callable[[Any], bool]:
    # moto lacks TestEventPattern; its own pattern matcher is what routes the local stack's events to the same
    # queues, so a replayed event goes where the original would have gone.
    from moto.events.models import EventPattern

    [subscription] = [s for s in consumers()[1] if s.name == consumer]
    return EventPattern.load((PATTERNS / f"{subscription.pattern}.json").read_text()).matches_event


def _delivered(
    envelope_json: str, detail_type: str, source: str, account: str, region: str, time_iso: str
) -> dict[str, Any]:
    """The EventBridge event as a rule's SQS target receives it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time_iso,
        "region": region,
        "resources": [],
        "detail": json.loads(envelope_json),
    }


def from_stores(
    dynamodb: Any,
    events: Any,
    sqs: Any,
    account: str,
    consumer: str,
    start: datetime,
    end: datetime,
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    matches, region = _matcher(consumer), events.meta.region_name
    chosen: list[tuple[datetime, dict[str, Any]]] = []
    for service, (source, types) in PUBLISHERS.items():
        for item in scan(dynamodb, EVENT_STORES[service], progress):
            if item.get("record_type") != EVENT or item.get("event_type") not in types:
                continue
            stored = stored_event_from_item(item)
            if not start <= stored.occurred_at < end:
                continue
            envelope = integration_envelope(stored, types[stored.event_type])
            delivered = _delivered(
                envelope.model_dump_json(),
                envelope.event_type,
                source,
                account,
                region,
                stored.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            if matches(delivered):
                chosen.append((stored.occurred_at, delivered))
    chosen.sort(key=lambda pair: pair[0])
    result: dict[str, Any] = {"consumer": consumer, "method": "event-stores", "matched": len(chosen), "sent": 0}
    if dry_run or not chosen:
        return result
    inbox_url = sqs.get_queue_url(QueueName=inbox(consumer))["QueueUrl"]
    for start_at in range(0, len(chosen), 10):  # SendMessageBatch's limit
        batch = chosen[start_at : start_at + 10]
        entries = [{"Id": str(i), "MessageBody": json.dumps(event)} for i, (_, event) in enumerate(batch)]
        failed = sqs.send_message_batch(QueueUrl=inbox_url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(
                f"{inbox(consumer)} refused {len(failed)} of a batch: {failed[0].get('Message')}; "
                f"{result['sent']} sent so far (replaying again is harmless)"
            )
        result["sent"] += len(batch)
        progress(result["sent"], len(chosen))
    return result


def from_archive(
    events: Any,
    consumer: str,
    start: datetime,
    end: datetime,
    *,
    dry_run: bool = False,
    wait_s: float = REPLAY_WAIT_S,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """EventBridge's replay of the bus's archive, to the consumer's rule only; waits until it is done."""
    bus_arn = events.describe_event_bus(Name=BUS)["Arn"]
    archive_arn = events.describe_archive(ArchiveName=f"{BUS}-archive")["ArchiveArn"]
    rule_arn = events.describe_rule(Name=consumer, EventBusName=BUS)["Arn"]
    name = f"{consumer}-{int(time.time())}"[:64]
    result: dict[str, Any] = {"consumer": consumer, "method": "eventbridge-replay", "replay": name}
    if dry_run:
        return {**result, "state": "not started (dry run)"}
    events.start_replay(
        ReplayName=name,
        EventSourceArn=archive_arn,
        EventStartTime=start,
        EventEndTime=end,
        Destination={"Arn": bus_arn, "FilterArns": [rule_arn]},
    )
    deadline, span = time.monotonic() + wait_s, (end - start).total_seconds() or 1
    while True:
        replay = events.describe_replay(ReplayName=name)
        done = replay.get("EventLastReplayedTime")
        if done is not None:
            progress(int(min(max((done - start).total_seconds(), 0), span)), int(span))
        if replay["State"] in ("COMPLETED", "FAILED", "CANCELLED") or time.monotonic() > deadline:
            return {**result, "state": replay["State"], "reason": replay.get("StateReason")}
        time.sleep(5)
