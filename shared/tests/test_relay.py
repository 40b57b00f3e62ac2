"""The outbox relay on moto: DynamoDB stream records → EventBridge → SQS, with injected PutEvents failures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import NewEvent, Snapshot
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, PutItem, table_definition
from payments_shared.eventstore.relay import OutboxRelay
from payments_testing.aws import aws_client
from payments_testing.streams import read_stream

BUS, SOURCE = "payments", "payments.test"


class FlakyEvents:
    """Wraps the real client; fails chosen entries (by event_type) for a number of calls, like EventBridge does."""

    def __init__(self, real: Any, fail_types: set[str], failing_calls: int) -> None:
        self.real, self.fail_types, self.failing_calls = real, fail_types, failing_calls
        self.batch_sizes: list[int] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # - boto3's name
        self.batch_sizes.append(len(Entries))
        failing = self.failing_calls > 0
        self.failing_calls -= 1
        results: list[dict[str, Any]] = []
        for entry in Entries:
            if failing and entry["DetailType"] in self.fail_types:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
            else:
                results.extend(self.real.put_events(Entries=[entry])["Entries"])
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


@pytest.fixture
def world(aws: None) -> dict[str, Any]:
    dynamodb, events, sqs = aws_client("dynamodb"), aws_client("events"), aws_client("sqs")
    stream_arn = dynamodb.create_table(**table_definition("events"))["TableDescription"]["LatestStreamArn"]
    dynamodb.create_table(
        TableName="ReadModel",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="sink")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "sink", "Arn": queue_arn}])
    store = DynamoDBEventStore(dynamodb, "events")
    return {
        "store": store,
        "events": events,
        "sqs": sqs,
        "queue_url": queue_url,
        "stream_arn": stream_arn,
        "streams": aws_client("dynamodbstreams"),
    }


def published(world: dict[str, Any]) -> list[EventEnvelope]:
    out: list[EventEnvelope] = []
    while True:
        messages = world["sqs"].receive_message(QueueUrl=world["queue_url"], MaxNumberOfMessages=10)
        if not messages.get("Messages"):
            return out
        for message in messages["Messages"]:
            out.append(EventEnvelope.from_eventbridge_event(json.loads(message["Body"])))
            world["sqs"].delete_message(QueueUrl=world["queue_url"], ReceiptHandle=message["ReceiptHandle"])


def seed(world: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for n in range(5):  # 5 streams x 5 events = 25 events → 3 PutEvents batches
        new = [NewEvent("Poisoned" if (n, i) == (2, 3) else "Happened", {"n": n, "i": i}, f"c{n}") for i in range(5)]
        world["store"].append(
            f"s-{n}", 0, new, [PutItem("ReadModel", {"id": f"s-{n}"}, {"v": 5})], Snapshot(5, {"n": n})
        )
        ids.extend(str(e.event_id) for e in new)
    return ids


def test_every_event_is_published_once_despite_partial_failures(world: dict[str, Any]) -> None:
    ids = seed(world)
    records = read_stream(world["streams"], world["stream_arn"])
    flaky = FlakyEvents(world["events"], {"Happened"}, failing_calls=2)
    relay = OutboxRelay(flaky, BUS, SOURCE, sleep=lambda _: None)

    response = relay.handle_stream_batch({"Records": records})

    assert response == {"batchItemFailures": []}
    assert max(flaky.batch_sizes) <= 10
    envelopes = published(world)
    assert sorted(str(e.event_id) for e in envelopes) == sorted(ids)  # snapshots/read models not published
    assert {e.aggregate_id for e in envelopes} == {f"s-{n}" for n in range(5)}


def test_entries_that_keep_failing_are_returned_for_retry_never_dropped(world: dict[str, Any]) -> None:
    ids = seed(world)
    records = read_stream(world["streams"], world["stream_arn"])
    broken = OutboxRelay(
        FlakyEvents(world["events"], {"Poisoned"}, failing_calls=99), BUS, SOURCE, sleep=lambda _: None
    )

    response = broken.handle_stream_batch({"Records": records})

    poisoned = [r for r in records if r["dynamodb"]["NewImage"].get("event_type", {}).get("S") == "Poisoned"]
    assert response["batchItemFailures"] == [{"itemIdentifier": poisoned[0]["dynamodb"]["SequenceNumber"]}]
    assert len(published(world)) == 24

    # Lambda redelivers from the failed record on; a healthy relay then publishes the rest (at least once).
    failed_at = records.index(poisoned[0])
    healthy = OutboxRelay(world["events"], BUS, SOURCE, sleep=lambda _: None)
    assert healthy.handle_stream_batch({"Records": records[failed_at:]}) == {"batchItemFailures": []}
    republished = {str(e.event_id) for e in published(world)}
    assert str(poisoned[0]["dynamodb"]["NewImage"]["event_id"]["S"]) in republished
    assert republished <= set(ids)


def test_a_put_events_exception_retries_then_reports_the_whole_batch(world: dict[str, Any]) -> None:
    seed(world)
    records = read_stream(world["streams"], world["stream_arn"])

    class Down:
        calls = 0

        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            Down.calls += 1
            raise ConnectionError("endpoint unreachable")

    response = OutboxRelay(Down(), BUS, SOURCE, max_attempts=3, sleep=lambda _: None).handle_stream_batch(
        {"Records": records}
    )
    event_records = [r for r in records if r["dynamodb"]["NewImage"]["record_type"]["S"] == "event"]
    assert len(response["batchItemFailures"]) == len(event_records) == 25
    assert Down.calls == 3 * 3  # three batches, three attempts each


def test_only_listed_event_types_are_published_under_their_integration_name(world: dict[str, Any]) -> None:
    seed(world)  # "Happened" x24 and one "Poisoned"
    records = read_stream(world["streams"], world["stream_arn"])
    relay = OutboxRelay(
        world["events"], BUS, SOURCE, published_types={"Poisoned": "SomethingPublic"}, sleep=lambda _: None
    )
    assert relay.handle_stream_batch({"Records": records}) == {"batchItemFailures": []}
    assert [e.event_type for e in published(world)] == ["SomethingPublic"]


def test_a_contract_event_leaves_with_its_contract_fields_only(world: dict[str, Any]) -> None:
    outcome = {
        "payment_order_id": "p-1",
        "merchant_id": "m-1",
        "amount": "5.00",
        "amount_minor": 500,
        "currency": "EUR",
        "status": "SUCCESS",
        "error_message": None,
        "decline_code": None,
        "psp_reference": "pi_1",
        "internal_note": "stays in the service",
    }
    world["store"].append("payment-p-1", 0, [NewEvent("PaymentSucceeded", outcome, "p-1")])
    relay = OutboxRelay(
        world["events"], BUS, SOURCE, published_types={"PaymentSucceeded": "PaymentStatusUpdated"}, sleep=lambda _: None
    )
    relay.handle_stream_batch({"Records": read_stream(world["streams"], world["stream_arn"])})
    [event] = published(world)
    assert event.event_type == "PaymentStatusUpdated"
    assert event.data == {k: v for k, v in outcome.items() if k in PaymentStatusUpdatedData.model_fields}
    assert "psp_reference" not in event.data and "internal_note" not in event.data
