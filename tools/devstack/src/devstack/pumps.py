"""Lambda's event sources, locally: DynamoDB streams → relays and projections, SQS queues → consumers,
scheduled rules → the sweep."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devstack.aws_calls import acting_as
from devstack.faults import Faults
from devstack.moto_local import client
from devstack.resources import QueueSettings
from devstack.runtime import Functions
from payments_testing.events import sqs_record

# The relay's event source mapping (Terraform event_store module): batches of up to 100 records, gathered
# for up to a second; locally 0.2 s keeps the run brisk, and queue batching windows are shortened alike.
BATCH_SIZE = 100
BATCHING_WINDOW_S = 0.2
BATCHING_WINDOW_SCALE = 0.2


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

    def __init__(
        self, functions: Functions, function: str, stream_arn: str, stop: threading.Event, faults: Faults
    ) -> None:
        super().__init__(name=f"stream-{function}", daemon=True)
        self._functions, self._function, self._arn, self._halt = functions, function, stream_arn, stop
        self._faults = faults
        self._streams = client("dynamodbstreams")

    def run(self) -> None:
        with acting_as(self._function):  # Lambda reads the stream with the function's role
            self._pump()

    def _pump(self) -> None:
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
                    StreamArn=self._arn,
                    ShardId=shard,
                    ShardIteratorType="AT_SEQUENCE_NUMBER",
                    SequenceNumber=str(first),
                )["ShardIterator"]
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
    """moto's SQS target leaves out envelope fields EventBridge always sends."""
    defaults = {"version": "0", "account": "000000000000", "region": "eu-west-1", "resources": []}
    return {**defaults, **event}


def received(message: dict[str, Any], queue_arn: str, from_rule: bool = True) -> dict[str, Any]:
    """A message received from the queue, as the event source mapping hands it to the function (a message an
    EventBridge rule put there gets the envelope fields moto leaves out; one a function sent is as sent)."""
    return sqs_record(
        json.dumps(as_delivered(json.loads(message["Body"]))) if from_rule else message["Body"],
        message["MessageId"],
        message["ReceiptHandle"],
        message.get("Attributes", {}),
        queue_arn,
        message["MD5OfBody"],
    )


class QueuePump(threading.Thread):
    """A Lambda event source mapping on a consumer's queue, with the settings Terraform deploys.

    Batches of up to `batch_size`, gathered for up to the batching window; the function answers a partial
    batch response; the messages it reports failed (or all of them, if it crashed) stay in the queue and
    come back after the visibility timeout, and the queue's redrive moves a message to the DLQ after
    `max_receive_count` receives; the others are deleted. Up to `maximum_concurrency` batches are in
    flight at once, as the mapping scales out, so a busy merchant's credits really race.
    """

    def __init__(
        self,
        functions: Functions,
        function: str,
        queue_url: str,
        queue_arn: str,
        settings: QueueSettings,
        stop: threading.Event,
        faults: Faults,
        *,
        from_rule: bool = True,
    ) -> None:
        """from_rule: the queue is an EventBridge rule's target (False: the functions send to it themselves)."""
        super().__init__(name=f"queue-{function}", daemon=True)
        self._functions, self._function, self._url, self._arn = functions, function, queue_url, queue_arn
        self._settings, self._halt, self._faults = settings, stop, faults
        self._from_rule = from_rule
        self._sqs = client("sqs")
        self._in_flight = threading.BoundedSemaphore(settings.maximum_concurrency)

    def run(self) -> None:
        with acting_as(self._function):  # Lambda polls the queue with the function's role
            self._poll()

    def _poll(self) -> None:
        idle = IdleBackoff()
        with ThreadPoolExecutor(self._settings.maximum_concurrency, thread_name_prefix=self.name) as pool:
            while not self._halt.is_set():
                self._in_flight.acquire()
                batch = self._receive_batch()
                if not batch:
                    self._in_flight.release()
                    idle.wait()
                    continue
                idle.busy()
                self._faults.shuffle(batch)  # a standard queue keeps no order
                pool.submit(self._deliver_and_release, batch)

    def _deliver_and_release(self, batch: list[dict[str, Any]]) -> None:
        try:
            with acting_as(self._function):  # …and deletes what the function finished
                self._deliver(batch)
        finally:
            self._in_flight.release()

    def _receive_batch(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        deadline = time.monotonic() + self._settings.maximum_batching_window_seconds * BATCHING_WINDOW_SCALE
        while len(batch) < self._settings.batch_size:
            batch += self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=min(10, self._settings.batch_size - len(batch)),
                AttributeNames=["All"],
            ).get("Messages", [])
            if not batch or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        for message in batch:
            if self._faults.happens(self._faults.duplicate_delivery):  # delivered twice (at least once, as SQS is)
                self._faults.record("duplicate_delivery")
                with acting_as(None):  # EventBridge's (or SQS's) doing, not the function's
                    self._sqs.send_message(QueueUrl=self._url, MessageBody=message["Body"])
        records = [received(m, self._arn, self._from_rule) for m in batch]
        if len(records) > 1 and self._faults.happens(self._faults.consumer_crash_mid_batch):
            # The function dies part-way: the first records' effects are committed, nothing is reported,
            # and the whole batch comes back after the visibility timeout.
            self._faults.record("consumer_crash_mid_batch")
            cut = self._faults.pick(1, len(records) - 1)
            try:
                self._functions.invoke(self._function, {"Records": records[:cut]})
            except Exception:  # noqa: BLE001, S110 - the crash is the point
                pass
            return
        try:
            response = self._functions.invoke(self._function, {"Records": records})
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 - recorded by the runtime; the whole batch is retried
            return
        done = [m for m in batch if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[start : start + 10])
                ],
            )


class Schedule(threading.Thread):
    """A scheduled rule: invokes `function` every `period_s` (EventBridge's scheduled event), until stopped."""

    def __init__(self, functions: Functions, function: str, period_s: float, stop: threading.Event) -> None:
        super().__init__(name=f"schedule-{function}", daemon=True)
        self.functions, self.function, self.period_s, self.stop = functions, function, period_s, stop

    def run(self) -> None:
        while not self.stop.wait(self.period_s):
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "resources": [f"arn:aws:events:eu-west-1:000000000000:rule/{self.function}"],
                "detail": {},
            }
            with contextlib.suppress(Exception):  # a failed run is recorded as the invocation's error
                self.functions.invoke(self.function, event)
