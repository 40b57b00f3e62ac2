"""Build DynamoDB stream events (as Lambda receives them) from what a table holds."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer

_serializer = TypeSerializer()


def stream_record(item: dict[str, Any], sequence_number: str, event_name: str = "INSERT") -> dict[str, Any]:
    image = {k: _serializer.serialize(v) for k, v in item.items() if v is not None}
    return {
        "eventID": sequence_number,
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"NewImage": image, "SequenceNumber": sequence_number, "StreamViewType": "NEW_IMAGE"},
    }


def stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def read_stream(dynamodb_streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every record currently in a (moto) DynamoDB stream, as a Lambda event source mapping delivers it."""
    records: list[dict[str, Any]] = []
    description = dynamodb_streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    for shard in description["Shards"]:
        iterator = dynamodb_streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = dynamodb_streams.get_records(ShardIterator=iterator)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records
