"""What a newly recorded payment status adds to the finalizer's metrics: one definition for the charge's
consumer, Stripe's webhook and the sweep (entry points never import each other)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import Metrics, single_metric

from finalizer.app import Finalized
from finalizer.domain.payment import PaymentStatus
from payments_shared.observability.metrics import NAMESPACE, MetricUnit


def record_metrics(metrics: Metrics, result: Finalized) -> None:
    """What a newly recorded status adds to the service's metrics (the charge, the webhook, the sweep)."""
    if result.status == PaymentStatus.REQUIRES_ACTION:
        metrics.add_metric(name="PaymentsAwaitingAction", unit=MetricUnit.Count, value=1)
        return
    if result.status in (PaymentStatus.AUTHORIZED, PaymentStatus.CANCELED):  # held, or released: nothing captured
        name = "PaymentsAuthorized" if result.status == PaymentStatus.AUTHORIZED else "AuthorizationsCanceled"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if result.psp_latency_ms is not None:
            metrics.add_metric(name="PspLatency", unit=MetricUnit.Milliseconds, value=result.psp_latency_ms)
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
