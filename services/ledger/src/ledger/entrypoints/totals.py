"""The ledger's account-totals projection, fed by its event store's DynamoDB stream."""

from __future__ import annotations

from ledger.runtime import SERVICE, container, logger
from payments_shared.eventstore.projection import project_stream_batch
from payments_shared.lambda_entry.stream import stream_entry
from payments_shared.observability.metrics import build_metrics

handler = stream_entry(
    lambda event: project_stream_batch(event, container.app().add_to_totals),
    logger=logger,
    metrics=build_metrics(SERVICE),
)
