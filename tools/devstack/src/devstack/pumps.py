"""Lambda's event sources, locally: DynamoDB streams → relays, SQS-buffered EventBridge targets → consumers."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from devstack.faults import Faults
from devstack.moto_local import client
from devstack.runtime import Functions

# The relay's event source mapping (Terraform event_store module): batches of up to 100 records, gathered
# for up to a second; locally 0.2 s keeps the run brisk.
BATCH_SIZE = 100
BATCHING_WINDOW_S = 0.2


class IdleBackoff:
    """Poll quickly while there is work, back off to 0.4 s when idle: every poll is a request to moto."""

    def __init__(self) -> None:
        self._delay = 0.02

    def busy(self) -> None:
        self._delay = 0.02

    def wait(self) -> None:
        time.sleep(self._delay)
        self._delay = min(self._delay * 2, 0.4)


class StreamPump(threading.Thread):
    """Delivers new stream records in order; on batchItemFailures, redelivers from the first failed one."""

    def __init__(self, functions: Functions, function: str, stream_arn: str, stop: threading.Event,
                 faults: Faults) -> None:  # fmt: skip
        super().__init__(name=f"stream-{function}", daemon=True)
        self._functions, self._function, self._arn, self._halt = functions, function, stream_arn, stop
        self._faults = faults
        self._streams = client("dynamodbstreams")

    def run(self) -> None:
        shard = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = self._streams.get_shard_iterator(
            StreamArn=self._arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        idle = IdleBackoff()
        while not self._halt.is_set():
            page = self._streams.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
            records = page["Records"]
            if not records:
                iterator = page.get("NextShardIterator", iterator)
                idle.wait()
                continue
            idle.busy()
            page = self._fill_batch(records, page)
            try:
                failures = self._functions.invoke(self._function, {"Records": records})["batchItemFailures"]
            except Exception:  # noqa: BLE001 - the whole batch is retried, as Lambda does
                failures = [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
            if not failures and self._faults.happens(self._faults.relay_crash_after_publish):
                # Published, then died before the checkpoint: the same records come again.
                failures = [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
            if failures:
                first = min(int(f["itemIdentifier"]) for f in failures)
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                    SequenceNumber=str(first),
                )["ShardIterator"]  # fmt: skip
                time.sleep(0.2)
            else:
                iterator = page.get("NextShardIterator", iterator)

    def _fill_batch(self, records: list[dict[str, Any]], page: dict[str, Any]) -> dict[str, Any]:
        """Lambda's batching window: keep reading until the batch is full or the window has passed."""
        deadline = time.monotonic() + BATCHING_WINDOW_S
        while len(records) < BATCH_SIZE and time.monotonic() < deadline and page.get("NextShardIterator"):
            time.sleep(0.05)
            page = self._streams.get_records(ShardIterator=page["NextShardIterator"], Limit=BATCH_SIZE - len(records))
            records.extend(page["Records"])
        return page


def as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """moto's SQS target leaves out envelope fields EventBridge always sends to a Lambda target."""
    defaults = {"version": "0", "account": "000000000000", "region": "eu-west-1", "resources": []}
    return {**defaults, **event}


class QueuePump(threading.Thread):
    """An EventBridge target: delivers each event to the consumer; a failure is retried with backoff
    (the message becomes visible again) and after MAX_DELIVERY_ATTEMPTS the queue's redrive moves it
    to the DLQ."""

    def __init__(self, functions: Functions, function: str, queue_url: str, stop: threading.Event,
                 faults: Faults) -> None:  # fmt: skip
        super().__init__(name=f"queue-{function}", daemon=True)
        self._functions, self._function, self._url, self._halt = functions, function, queue_url, stop
        self._faults = faults
        self._sqs = client("sqs")

    def run(self) -> None:
        idle = IdleBackoff()
        while not self._halt.is_set():
            messages = self._sqs.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
            ).get("Messages", [])
            if not messages:
                idle.wait()
                continue
            idle.busy()
            self._faults.shuffle(messages)
            for message in messages:
                self._deliver(message)

    def _deliver(self, message: dict[str, Any]) -> None:
        event = as_delivered(json.loads(message["Body"]))
        try:
            self._functions.invoke(self._function, event)
            if self._faults.happens(self._faults.duplicate_delivery):
                self._functions.invoke(self._function, event)
        except Exception:  # noqa: BLE001 - recorded by the runtime; redelivered, then dead-lettered
            attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            # Back off 1 s, 2 s, … before the next attempt, as EventBridge does.
            self._sqs.change_message_visibility(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"],
                                                VisibilityTimeout=attempt)  # fmt: skip
            return
        if self._faults.happens(self._faults.consumer_crash_after_write):
            # The work is committed but the ack is lost: the message comes back after its visibility timeout.
            self._sqs.change_message_visibility(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"],
                                                VisibilityTimeout=1)  # fmt: skip
            return
        self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
