"""Projections fed by an event store's DynamoDB stream: apply each new event in stream order, once.

The stream delivers at least once and retries from the first failed record (ReportBatchItemFailures), so
`apply` must be idempotent; a failure stops the batch there, and what follows is retried in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from payments_shared.eventstore.port import StoredEvent
from payments_shared.eventstore.stream_records import inserted_events

_log = logging.getLogger(__name__)


def project_stream_batch(event: dict[str, Any], apply: Callable[[StoredEvent], object]) -> dict[str, Any]:
    for sequence_number, stored in inserted_events(event):
        try:
            apply(stored)
        except Exception:  # noqa: BLE001 - reported to the event source mapping, which retries from here
            _log.exception("projection stopped; the stream retries from this record")
            return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
    return {"batchItemFailures": []}
