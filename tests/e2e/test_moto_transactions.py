"""The local stack's moto patch keeps TransactWriteItems all-or-nothing (rows and stream) while backing up
only the rows a transaction names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from devstack.moto_local import MotoServer, client

from payments_shared.eventstore import Append, AppendsRefused, ConcurrencyConflict, NewEvent
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, table_definition


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    moto = MotoServer().start()
    dynamodb = client("dynamodb")
    dynamodb.create_table(**table_definition("events"))
    dynamodb.create_table(
        TableName="totals",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield dynamodb
    moto.stop()


def put(stream: str, version: int) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": "events",
            "Item": {"stream_id": {"S": stream}, "version": {"N": str(version)}},
            "ConditionExpression": "attribute_not_exists(version)",
        }
    }


def add(amount: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": "totals",
            "Key": {"id": {"S": "t"}},
            "UpdateExpression": "ADD amount :a",
            "ExpressionAttributeValues": {":a": {"N": str(amount)}},
        }
    }


def state(dynamodb: Any) -> tuple[int, str | None, int]:
    events = dynamodb.scan(TableName="events")["Count"]
    total = dynamodb.get_item(TableName="totals", Key={"id": {"S": "t"}}).get("Item", {}).get("amount", {}).get("N")
    stream_arn = dynamodb.describe_table(TableName="events")["Table"]["LatestStreamArn"]
    streams = client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return events, total, len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_a_transaction_applies_every_write(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put("s1", 0), put("s1", 1), add(5)])
    assert state(dynamodb) == (2, "5", 2)


def test_a_failed_transaction_leaves_rows_totals_and_stream_as_they_were(dynamodb: Any) -> None:
    before = state(dynamodb)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        # The new row and the ADD come before the conflicting row: all three must be undone.
        dynamodb.transact_write_items(TransactItems=[put("s2", 0), add(7), put("s1", 1)])
    assert state(dynamodb) == before
    dynamodb.transact_write_items(TransactItems=[put("s2", 0), add(7)])  # and the table still works
    assert state(dynamodb) == (3, "12", 3)


def test_a_transaction_of_several_streams_appends_is_refused_at_the_one_taken_and_then_writes_the_rest(
    dynamodb: Any,
) -> None:
    """The event store's append_many (a queue batch's write) on the local stack's moto: the cancellation names the
    append whose item was taken, nothing of the others is written, and they go through without it."""
    store = DynamoDBEventStore(dynamodb, "events")
    store.append("batch-taken", 0, [NewEvent("Happened", {}, "c")])
    before = state(dynamodb)
    appends = [Append(f"batch-{name}", 0, [NewEvent("Happened", {"n": name}, "c")]) for name in ("a", "taken", "b")]
    with pytest.raises(AppendsRefused) as refused:
        store.append_many(appends)
    first, taken, last = refused.value.errors
    assert first is None and last is None and isinstance(taken, ConcurrencyConflict)
    assert state(dynamodb) == before  # rows and stream as they were
    store.append_many([appends[0], appends[2]])
    assert state(dynamodb)[0] == before[0] + 2
