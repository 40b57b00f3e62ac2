"""The finalizer's consumer of RefundRequested (its queue `finalizer-refunds`): refund once at the PSP, record
the answer on the refund's stream."""

from __future__ import annotations

from finalizer.domain.refund import RequestRefund
from finalizer.refund_metrics import record_refund_metrics
from finalizer.runtime import SERVICE, container, logger
from payments_shared.contracts import RefundRequestedData
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import build_metrics

metrics = build_metrics(SERVICE)


def refund_command(envelope: EventEnvelope) -> RequestRefund:
    """The command a RefundRequested event carries; malformed data raises here, before any I/O."""
    refund = RefundRequestedData.model_validate(envelope.data)
    return RequestRefund(
        refund.refund_id,
        refund.payment_order_id,
        refund.merchant_id,
        refund.money(),
        refund.reason,
        envelope.correlation_id,
        str(envelope.event_id),
        envelope.occurred_at,
    )


def _refund(envelope: EventEnvelope) -> None:
    """Raises when the PSP's outcome stays unknown, or the payment is not one this finalizer saw succeed: the
    queue redelivers (the next attempt asks the PSP with the same idempotency key), then parks it in the DLQ."""
    result = container.app().refund(refund_command(envelope))
    if not result.recorded_now:
        logger.info("duplicate delivery: refund already recorded", extra={"status": result.status.value})
        return
    record_refund_metrics(metrics, result)
    logger.info("refund recorded", extra={"refund_id": result.refund_id, "status": result.status.value})


handler = queue_entry(_refund, logger=logger, metrics=metrics)
