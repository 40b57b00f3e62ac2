"""A batch of delivery messages: each delivered on its own, side by side, failures re-scheduled by the queue.

The records of a batch go to different merchants' endpoints, so they are attempted concurrently: a slow one
holds the batch for its own bounded time (~7 s), not for the sum. Records for the same endpoint go one after
another, so when the first finds the endpoint unreachable the rest are deferred without a call (health). A
failed record gets its next wait as its visibility (one ChangeMessageVisibilityBatch call) and is reported in
the partial batch response, so only it comes back, then; after the last attempt it is reported with its
visibility left alone, and the queue's redrive parks it. Done records (delivered, or nothing left to deliver)
are deleted by the mapping.
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


def _endpoint_key(body: str) -> str:
    try:
        request = request_of(body)
    except (ValueError, KeyError, TypeError):
        return body  # malformed: on its own; `one` reports it
    return f"{request.merchant_id}/{request.endpoint_id}"


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

    by_endpoint: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        by_endpoint.setdefault(_endpoint_key(record["body"]), []).append(index)
    outcomes: list[Outcome | Exception] = [RuntimeError("not attempted")] * len(records)

    def in_turn(indexes: list[int]) -> None:
        for index in indexes:
            outcomes[index] = one(records[index])

    with ThreadPoolExecutor(max(1, min(MAX_PARALLEL, len(by_endpoint)))) as pool:
        list(pool.map(in_turn, by_endpoint.values()))

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
