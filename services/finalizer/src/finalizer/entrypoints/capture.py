"""The finalizer's consumer of CaptureRequested and CancelRequested (its queue `finalizer-captures`): capture an
authorization (all or part of it) or release it at the PSP, once, and record SUCCESS or CANCELED."""

from __future__ import annotations

from finalizer.domain.payment import CancelAuthorization, CapturePayment
from finalizer.outcome_metrics import record_metrics
from finalizer.runtime import SERVICE, container, logger
from payments_shared.contracts import CANCEL_REQUESTED, CAPTURE_REQUESTED, CancelRequestedData, CaptureRequestedData
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import build_metrics

metrics = build_metrics(SERVICE)


def capture_command(envelope: EventEnvelope) -> CapturePayment | CancelAuthorization:
    """The command a CaptureRequested or CancelRequested event carries; malformed data raises here, before any
    I/O (and the message goes on to the DLQ)."""
    if envelope.event_type == CAPTURE_REQUESTED:
        capture = CaptureRequestedData.model_validate(envelope.data)
        return CapturePayment(
            capture.payment_order_id,
            capture.merchant_id,
            capture.money(),
            envelope.correlation_id,
            str(envelope.event_id),
        )
    if envelope.event_type == CANCEL_REQUESTED:
        cancel = CancelRequestedData.model_validate(envelope.data)
        return CancelAuthorization(
            cancel.payment_order_id,
            cancel.merchant_id,
            cancel.cancellation_reason,
            envelope.correlation_id,
            str(envelope.event_id),
        )
    raise ValueError(f"{envelope.event_type} is neither {CAPTURE_REQUESTED} nor {CANCEL_REQUESTED}")


def _capture(envelope: EventEnvelope) -> None:
    """Raises when the PSP's outcome stays unknown, or the payment is not one this finalizer saw authorized: the
    queue redelivers (the next attempt asks the PSP with the same idempotency key), then parks it in the DLQ."""
    command = capture_command(envelope)
    app = container.app()
    result = app.capture(command) if isinstance(command, CapturePayment) else app.cancel_authorization(command)
    if not result.charged_now:
        logger.info("duplicate delivery: payment already final", extra={"status": result.status.value})
        return
    record_metrics(metrics, result)
    logger.info(
        "authorization settled", extra={"payment_order_id": result.payment_order_id, "status": result.status.value}
    )


handler = queue_entry(_capture, logger=logger, metrics=metrics)
