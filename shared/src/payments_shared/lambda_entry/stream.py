"""DynamoDB stream consumers (outbox relays, projections), with partial batch responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from opentelemetry.trace import SpanKind

from payments_shared.lambda_entry.span import LambdaHandler, function_name, invocation_span
from payments_shared.observability.tracing import mark_error


def stream_entry(
    process: Callable[[dict[str, Any]], dict[str, Any]], *, logger: Logger, metrics: Metrics
) -> LambdaHandler:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with invocation_span(
            "outbox relay",
            SpanKind.CONSUMER,
            attributes={
                "faas.trigger": "datasource",
                "faas.name": function_name(context),
                "payments.records": len(event.get("Records", [])),
            },
        ) as roots:
            response = process(event)
            if response.get("batchItemFailures"):
                logger.warning("records left for retry", extra={"failures": len(response["batchItemFailures"])})
                mark_error(roots, description="some events were not published")
            return response

    return logger.inject_lambda_context(metrics.log_metrics(handler, capture_cold_start_metric=True), clear_state=True)
