"""The finalizer's consumer of PaymentInitiated (its queue): charge the payment once, record the outcome."""

from __future__ import annotations

from aws_lambda_powertools.metrics import Metrics, single_metric

from finalizer.app import Finalized
from finalizer.domain.payment import ChargePayment, PaymentStatus
from finalizer.runtime import SERVICE, container, logger
from payments_shared.contracts import PaymentInitiatedData
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import NAMESPACE, MetricUnit, build_metrics

metrics = build_metrics(SERVICE)


def charge_command(envelope: EventEnvelope) -> ChargePayment:
    """The command a PaymentInitiated event carries; malformed data raises here, before any I/O."""
    payment = PaymentInitiatedData.model_validate(envelope.data)
    return ChargePayment(
        payment.payment_order_id,
        payment.merchant_id,
        payment.money(),
        payment.payment_details,
        envelope.correlation_id,
        str(envelope.event_id),
        envelope.occurred_at,
        payment.payment_method,
        payment.return_url,
    )


def _charge(envelope: EventEnvelope) -> None:
    """Raises when the PSP's outcome stays unknown after bounded retries: the queue then redelivers the
    event (the next attempt first asks the PSP by idempotency key) and finally parks it in the DLQ. A
    guess either way would risk a charge without a record or a record without a charge."""
    result = container.app().charge(charge_command(envelope))
    if not result.charged_now:
        logger.info("duplicate delivery: payment already decided", extra={"status": result.status.value})
        return
    record_metrics(metrics, result)
    logger.info("payment finalized", extra={"payment_order_id": result.payment_order_id, "status": result.status.value})


def record_metrics(metrics: Metrics, result: Finalized) -> None:
    """What a newly recorded status adds to the service's metrics (the charge, the webhook, the sweep)."""
    if result.status == PaymentStatus.REQUIRES_ACTION:
        metrics.add_metric(name="PaymentsAwaitingAction", unit=MetricUnit.Count, value=1)
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


handler = queue_entry(_charge, logger=logger, metrics=metrics)
