"""Projections fed by an event store's DynamoDB stream: apply each new event in stream order, once.

The stream delivers at least once and retries from the first failed record (ReportBatchItemFailures), so
`apply` must be idempotent; a failure stops the batch there, and what follows is retried in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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


def project_stream_batch_in_groups(
    event: dict[str, Any],
    apply: Callable[[Sequence[StoredEvent]], object],
    fits: Callable[[Sequence[StoredEvent]], bool],
) -> dict[str, Any]:
    """As project_stream_batch, but `apply` takes the batch's events a group at a time (one write for many),
    each group as long as `fits` allows (e.g. a transaction's 100 items), in stream order.

    A group's write is all or nothing, so a failed group stops the batch at its first record: the groups before
    it stay committed, and the stream retries from there (`apply` must be idempotent per event).
    """
    groups: list[list[tuple[str, StoredEvent]]] = []
    for record in inserted_events(event):
        if groups and fits([stored for _, stored in groups[-1]] + [record[1]]):
            groups[-1].append(record)
        else:
            groups.append([record])
    for group in groups:
        try:
            apply([stored for _, stored in group])
        except Exception:  # noqa: BLE001 - reported to the event source mapping, which retries from here
            _log.exception("projection stopped; the stream retries from this group's first record")
            return {"batchItemFailures": [{"itemIdentifier": group[0][0]}]}
    return {"batchItemFailures": []}
