"""Re-scheduling failed delivery messages on their queue: ChangeMessageVisibilityBatch (10 at most, a batch's size)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notifier.delivery.batch import Retry


def queue_url(queue_arn: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name> → the queue's URL (SQS's documented form)."""
    _, _, _, region, account, name = queue_arn.split(":", 5)
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


class SQSMessageVisibility:
    def __init__(self, client: Any) -> None:
        self._client = client

    def postpone(self, queue_arn: str, retries: Sequence[Retry]) -> list[str]:
        """The message ids whose visibility did not change: they come back after the queue's own timeout (sooner)."""
        url, failed = queue_url(queue_arn), []
        for start in range(0, len(retries), 10):
            response = self._client.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": r.receipt_handle, "VisibilityTimeout": r.visibility_s}
                    for n, r in enumerate(retries[start : start + 10])
                ],
            )
            chunk = retries[start : start + 10]
            failed += [chunk[int(f["Id"])].message_id for f in response.get("Failed", [])]
        return failed
