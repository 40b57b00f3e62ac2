"""The wallet's outbox relay: its event store's DynamoDB stream → EventBridge (only PayoutPaid leaves)."""

from __future__ import annotations

from payments_shared.lambda_entry.stream import stream_entry
from payments_shared.observability.metrics import build_metrics
from wallet.runtime import SERVICE, container, logger

handler = stream_entry(
    lambda event: container.relay().handle_stream_batch(event), logger=logger, metrics=build_metrics(SERVICE)
)
