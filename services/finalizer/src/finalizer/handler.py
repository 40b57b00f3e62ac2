"""Lambda entry points of the finalizer: PaymentInitiated consumer and the outbox relay."""

from __future__ import annotations

from aws_lambda_powertools.metrics import single_metric

from finalizer.container import build_container
from finalizer.domain.payment import PaymentStatus
from payments_shared import snapstart
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.lambda_entry.stream import stream_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import NAMESPACE, MetricUnit, build_metrics

SERVICE = "finalizer"
logger = build_logger(SERVICE)
metrics = build_metrics(SERVICE)
container = build_container()
snapstart.install(container.reset_singletons)  # a restored copy rebuilds its clients (SnapStart)


def _finalize(envelope: EventEnvelope) -> None:
    """Raises when the PSP's outcome stays unknown after bounded retries: the queue then redelivers the
    event (the next attempt first asks the PSP by idempotency key) and finally parks it in the DLQ. A
    guess either way would risk a charge without a record or a record without a charge."""
    result = container.app().finalize(envelope)
    if not result.charged_now:
        logger.info("duplicate delivery: payment already decided", extra={"status": result.status.value})
        return
    succeeded = result.status == PaymentStatus.SUCCESS
    metrics.add_metric(name="PaymentsSucceeded" if succeeded else "PaymentsFailed", unit=MetricUnit.Count, value=1)
    if result.psp_latency_ms is not None:
        metrics.add_metric(name="PspLatency", unit=MetricUnit.Milliseconds, value=result.psp_latency_ms)
    if succeeded:  # amounts only add up within a currency, so the currency is this metric's dimension
        with single_metric(
            name="AmountCapturedMinorUnits", unit=MetricUnit.Count, value=result.amount_minor, namespace=NAMESPACE
        ) as amount:
            amount.add_dimension(name="currency", value=result.currency)
    logger.info("payment finalized", extra={"payment_order_id": result.payment_order_id, "status": result.status.value})


handler = queue_entry(_finalize, logger=logger, metrics=metrics)
relay_handler = stream_entry(
    lambda event: container.relay().handle_stream_batch(event), logger=logger, metrics=build_metrics(SERVICE)
)  # (its own: see build_metrics)
