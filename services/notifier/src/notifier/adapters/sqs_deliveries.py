"""Deliveries queued on SQS (notifier-deliveries): one message per event and endpoint, sent in batches of ten."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from notifier.ports import Delivery
from payments_shared.retry import RetryPolicy, retry

BATCH = 10  # SendMessageBatch's most entries per call
SEND_RETRY = RetryPolicy(attempts=4)


class DeliveriesNotQueued(RuntimeError):
    """Some deliveries were still refused after the retries; the caller fails, so its input comes back."""


def message(delivery: Delivery) -> str:
    return json.dumps(
        {"merchant_id": delivery.merchant_id, "event_id": delivery.event_id, "endpoint_id": delivery.endpoint_id}
    )


class SqsDeliveries:
    def __init__(
        self,
        client: Any,
        queue_url: str,
        policy: RetryPolicy = SEND_RETRY,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._client, self._queue_url, self._policy = client, queue_url, policy
        self._sleep = sleep

    def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        for start in range(0, len(deliveries), BATCH):
            self._send(list(deliveries[start : start + BATCH]))

    def _send(self, batch: list[Delivery]) -> None:
        pending = {str(n): message(d) for n, d in enumerate(batch)}

        def attempt(_: int) -> None:
            answer = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": entry_id, "MessageBody": body} for entry_id, body in pending.items()],
            )
            for sent in answer.get("Successful", []):
                pending.pop(sent["Id"], None)
            if pending:  # only the refused entries are sent again
                raise DeliveriesNotQueued(f"{len(pending)} deliveries refused: {answer.get('Failed', [])}")

        kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
        retry(attempt, on=(DeliveriesNotQueued,), policy=self._policy, **kwargs)
