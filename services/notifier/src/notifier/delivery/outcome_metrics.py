"""What a batch of delivery attempts adds to the notifier's metrics (EMF): delivered, retried, parked, and each
failed attempt with its endpoint — the dashboards' webhooks tile reads them from the deliverer's log lines.

The endpoint is metadata on its own EMF line, not a dimension: CloudWatch bills a metric per dimension value,
and a merchant can register many endpoints; Dynatrace groups the log lines by it all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.metrics import Metrics, single_metric

from notifier.delivery.batch import request_of
from notifier.delivery.deliverer import Outcome
from payments_shared.observability.metrics import NAMESPACE, MetricUnit


def parked(outcome: Outcome | Exception) -> bool:
    """A failure at the schedule's last attempt: the queue's redrive parks it in the DLQ."""
    return isinstance(outcome, Outcome) and not outcome.done and outcome.retry_in_s is None


def endpoint_failed(outcome: Outcome) -> bool:
    """An attempt the endpoint failed (an HTTP call made, or its URL refused): not a deferral without a call.
    (An exception is an error of ours, not the endpoint's: the queue brings the message back, the log has it.)"""
    return not outcome.done and not outcome.status.startswith("deferred")


def record_batch_metrics(metrics: Metrics, outcomes: Sequence[tuple[dict[str, Any], Outcome | Exception]]) -> None:
    done = sum(1 for _, o in outcomes if isinstance(o, Outcome) and o.done)
    parked_now = sum(1 for _, o in outcomes if parked(o))
    metrics.add_metric(name="WebhookDeliveriesDone", unit=MetricUnit.Count, value=done)
    metrics.add_metric(name="WebhookDeliveriesRetried", unit=MetricUnit.Count, value=len(outcomes) - done - parked_now)
    metrics.add_metric(name="WebhookDeliveriesParked", unit=MetricUnit.Count, value=parked_now)
    for record, outcome in outcomes:
        if not isinstance(outcome, Outcome) or not endpoint_failed(outcome):
            continue
        request = request_of(record["body"])
        with single_metric(
            name="WebhookEndpointFailures", unit=MetricUnit.Count, value=1, namespace=NAMESPACE
        ) as failure:
            failure.add_metadata(key="merchant_id", value=request.merchant_id)
            failure.add_metadata(key="endpoint_id", value=request.endpoint_id)
            failure.add_metadata(key="status", value=outcome.status)
