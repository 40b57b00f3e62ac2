"""The sweep (a schedule, every few minutes): authentications abandoned past the deadline are cancelled at
the PSP and their payments FAILED — or SUCCESS, for a buyer who authenticated at the last moment; authorizations
held past the capture window (7 days deployed) are cancelled and their payments CANCELED. With it every
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
    window = timedelta(seconds=container.config.capture_window_s())
    attributes = {"faas.trigger": "timer", "faas.name": function_name(context)}
    with invocation_span("authentications sweep", SpanKind.INTERNAL, attributes=attributes):
        app = container.app()
        runs = {"settled": lambda: app.sweep(deadline), "released": lambda: app.sweep_authorizations(window)}
        counted, incomplete = {}, []
        for name, run in runs.items():
            try:
                counted[name] = _count(run(), name)
            except SweepIncomplete as partly:  # the other sweep still runs: one stuck payment holds back none
                counted[name] = _count(partly.settled, name)
                incomplete.append(partly)
        if incomplete:
            logger.error("sweep incomplete", extra={"left": sum(len(i.left) for i in incomplete)})
            raise incomplete[0]
    return counted


def _count(settled: list[Finalized], name: str) -> int:
    recorded = [result for result in settled if result.charged_now]
    for result in recorded:
        record_metrics(metrics, result)
    metric = "AbandonedAuthenticationsSettled" if name == "settled" else "ExpiredAuthorizationsCanceled"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=len(recorded))
    logger.info("sweep done", extra={"sweep": name, "recorded": len(recorded), "looked_at": len(settled)})
    return len(recorded)


handler: LambdaHandler = logger.inject_lambda_context(
    metrics.log_metrics(_sweep, capture_cold_start_metric=True), clear_state=True
)
