"""The initializer's outbox relay: its event store's DynamoDB stream → EventBridge."""

from __future__ import annotations

from initializer.runtime import SERVICE, container, logger
from payments_shared.lambda_entry.stream import stream_entry
from payments_shared.observability.metrics import build_metrics

handler = stream_entry(
    lambda event: container.relay().handle_stream_batch(event), logger=logger, metrics=build_metrics(SERVICE)
)
