"""The events a DynamoDB stream batch (NEW_IMAGE) of an event store carries, in stream order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName

from payments_shared.eventstore.dynamodb import EVENT, stored_event_from_item
from payments_shared.eventstore.port import StoredEvent


def inserted_events(event: dict[str, Any]) -> Iterator[tuple[str, StoredEvent]]:
    """(sequence number, event) for each event the batch inserted.

    Events are immutable, so MODIFY/REMOVE records are snapshots or TTL cleanup; snapshots, markers and
    read-model rows inserted beside the events are not events either.
    """
    for record in DynamoDBStreamEvent(event).records:
        stream = record.dynamodb
        if record.event_name != DynamoDBRecordEventName.INSERT or stream is None:
            continue
        image = stream.new_image
        if image.get("record_type") == EVENT:
            yield str(stream.sequence_number), stored_event_from_item(image)
