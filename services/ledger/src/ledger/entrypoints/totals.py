"""The ledger's account-totals projection, fed by its event store's DynamoDB stream."""

from __future__ import annotations

from ledger.runtime import SERVICE, container, logger
from payments_shared.eventstore.projection import project_stream_batch_in_groups
from payments_shared.lambda_entry.stream import stream_entry
from payments_shared.observability.metrics import build_metrics

# A batch's entries in as few writes as a transaction's 100 items allow: a marker per entry and one row per
# account and currency the batch touches.
handler = stream_entry(
    lambda event: project_stream_batch_in_groups(
        event, container.app().add_batch_to_totals, container.app().totals_fit
    ),
    logger=logger,
    metrics=build_metrics(SERVICE),
)
