"""A batch of delivery messages: each delivered on its own, side by side, failures re-scheduled by the queue.

The records of a batch go to different merchants' endpoints, so they are attempted concurrently: a slow one
holds the batch for its own bounded time (~7 s), not for the sum. A failed record gets its next wait as its
visibility (one ChangeMessageVisibilityBatch call) and is reported in the partial batch response, so only it
comes back, then; after the last attempt it is reported with its visibility left alone, and the queue's
redrive parks it. Done records (delivered, or nothing left to deliver) are deleted by the mapping.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from notifier.delivery.deliverer import Deliverer, Outcome
from notifier.delivery.ports import DeliveryRequest

MAX_PARALLEL = 10  # the mapping's batch size


@dataclass(frozen=True)
class Retry:
    message_id: str
    receipt_handle: str
    visibility_s: int


class MessageVisibility(Protocol):
    def postpone(self, queue_arn: str, retries: Sequence[Retry]) -> list[str]: ...


def request_of(body: str) -> DeliveryRequest:
    message = json.loads(body)
    return DeliveryRequest(str(message["merchant_id"]), str(message["event_id"]), str(message["endpoint_id"]))


def deliver_batch(
    event: dict[str, Any],
    deliverer: Deliverer,
    visibility: MessageVisibility,
    on_outcome: Callable[[dict[str, Any], Outcome | Exception], None] = lambda record, outcome: None,
    on_unpostponed: Callable[[list[str]], None] = lambda message_ids: None,
) -> dict[str, Any]:
    records = event.get("Records", [])

    def one(record: dict[str, Any]) -> Outcome | Exception:
        try:
            receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            outcome: Outcome | Exception = deliverer.deliver(request_of(record["body"]), receive_count)
        except Exception as error:  # noqa: BLE001 - reported for this record alone; the queue redelivers it
            outcome = error
        on_outcome(record, outcome)
        return outcome

    with ThreadPoolExecutor(max(1, min(MAX_PARALLEL, len(records)))) as pool:
        outcomes = list(pool.map(one, records))

    failures = [r for r, o in zip(records, outcomes, strict=True) if isinstance(o, Exception) or not o.done]
    retries = [
        Retry(r["messageId"], r["receiptHandle"], o.retry_in_s)
        for r, o in zip(records, outcomes, strict=True)
        if isinstance(o, Outcome) and not o.done and o.retry_in_s is not None
    ]
    if retries:
        try:
            unchanged = visibility.postpone(records[0]["eventSourceARN"], retries)
        except Exception:  # noqa: BLE001 - they come back after the queue's own timeout: sooner, never lost
            unchanged = [r.message_id for r in retries]
        if unchanged:
            on_unpostponed(unchanged)
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failures]}
