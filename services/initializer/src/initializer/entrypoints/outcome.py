"""The initializer's consumer of PaymentStatusUpdated (its queue): record the finalizer's outcome on the order."""

from __future__ import annotations

from initializer.runtime import SERVICE, container, logger
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import build_metrics


def _record_outcome(envelope: EventEnvelope) -> None:
    if envelope.event_type == "PaymentStatusUpdated":
        container.app().record_outcome(envelope)


handler = queue_entry(_record_outcome, logger=logger, metrics=build_metrics(SERVICE))
