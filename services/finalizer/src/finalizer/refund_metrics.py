"""What a newly recorded refund status adds to the finalizer's metrics: one definition for the refund's consumer
and Stripe's webhook (entry points never import each other)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import Metrics

from finalizer.domain.psp_views import RefundStatus
from finalizer.money_out import RefundRecorded
from payments_shared.observability.metrics import MetricUnit

METRIC_NAMES = {
    RefundStatus.SUCCEEDED: "RefundsSucceeded",
    RefundStatus.FAILED: "RefundsFailed",
    RefundStatus.REVERSED: "RefundsReversed",
}


def record_refund_metrics(metrics: Metrics, result: RefundRecorded) -> None:
    metrics.add_metric(name=METRIC_NAMES[result.status], unit=MetricUnit.Count, value=1)
    if result.psp_latency_ms is not None:
        metrics.add_metric(name="PspLatency", unit=MetricUnit.Milliseconds, value=result.psp_latency_ms)
