"""The sweep (a schedule, every few minutes): authentications abandoned past the deadline are cancelled at
the PSP and their payments FAILED — or SUCCESS, for a buyer who authenticated at the last moment. With it every
accepted payment is final within the deadline plus the schedule's period, whatever the buyer or the PSP does.
A payment the PSP or the store cannot settle now stays for the next run, and the run fails (errors alarm)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from opentelemetry.trace import SpanKind

from finalizer.app import Finalized, SweepIncomplete
from finalizer.outcome_metrics import record_metrics
from finalizer.runtime import SERVICE, container, logger
from payments_shared.lambda_entry.span import LambdaHandler, function_name, invocation_span
from payments_shared.observability.metrics import MetricUnit, build_metrics

metrics = build_metrics(SERVICE)


def _sweep(event: dict[str, Any], context: Any) -> dict[str, int]:
    deadline = timedelta(seconds=container.config.authentication_deadline_s())
    attributes = {"faas.trigger": "timer", "faas.name": function_name(context)}
    with invocation_span("authentications sweep", SpanKind.INTERNAL, attributes=attributes):
        try:
            settled = container.app().sweep(deadline)
        except SweepIncomplete as incomplete:
            _count(incomplete.settled)
            logger.error("sweep incomplete", extra={"left": len(incomplete.left)})
            raise
    return {"settled": _count(settled)}


def _count(settled: list[Finalized]) -> int:
    recorded = [result for result in settled if result.charged_now]
    for result in recorded:
        record_metrics(metrics, result)
    metrics.add_metric(name="AbandonedAuthenticationsSettled", unit=MetricUnit.Count, value=len(recorded))
    logger.info("sweep done", extra={"settled": len(recorded), "looked_at": len(settled)})
    return len(recorded)


handler: LambdaHandler = logger.inject_lambda_context(
    metrics.log_metrics(_sweep, capture_cold_start_metric=True), clear_state=True
)
