"""The initializer's consumer of PaymentStatusUpdated (its queue): record the finalizer's outcome on the order."""

from __future__ import annotations

from initializer.domain.commands import RecordPaymentOutcome
from initializer.runtime import SERVICE, container, logger
from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.repository import Cause
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import build_metrics


def outcome_command(envelope: EventEnvelope) -> tuple[RecordPaymentOutcome, Cause]:
    """The command a PaymentStatusUpdated event carries; malformed data raises here, before any I/O."""
    data = PaymentStatusUpdatedData.model_validate(envelope.data)
    command = RecordPaymentOutcome(str(data.payment_order_id), data.status, data.error_message, str(envelope.event_id))
    return command, Cause(envelope.correlation_id, str(envelope.event_id))


def _record_outcome(envelope: EventEnvelope) -> None:
    if envelope.event_type == "PaymentStatusUpdated":
        container.app().record_outcome(*outcome_command(envelope))


handler = queue_entry(_record_outcome, logger=logger, metrics=build_metrics(SERVICE))
