"""Projections fed by an event store's DynamoDB stream: apply each new event in stream order, once.

The stream delivers at least once and retries from the first failed record (ReportBatchItemFailures), so
`apply` must be idempotent; a failure stops the batch there, and what follows is retried in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName

from payments_shared.eventstore.dynamodb import EVENT, stored_event_from_item
from payments_shared.eventstore.port import StoredEvent

_log = logging.getLogger(__name__)


def project_stream_batch(event: dict[str, Any], apply: Callable[[StoredEvent], object]) -> dict[str, Any]:
    for record in DynamoDBStreamEvent(event).records:
        stream = record.dynamodb
        if record.event_name != DynamoDBRecordEventName.INSERT or stream is None:
            continue
        image = stream.new_image
        if image.get("record_type") != EVENT:
            continue  # snapshots and markers are not events
        try:
            apply(stored_event_from_item(image))
        except Exception:  # noqa: BLE001 - reported to the event source mapping, which retries from here
            _log.exception("projection stopped; the stream retries from this record")
            return {"batchItemFailures": [{"itemIdentifier": str(stream.sequence_number)}]}
    return {"batchItemFailures": []}
