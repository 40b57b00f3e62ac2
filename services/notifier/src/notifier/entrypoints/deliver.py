"""notifier-deliver: the notifier-deliveries queue → one signed POST per message; failures wait their turn."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind

from notifier.delivery.batch import deliver_batch
from notifier.delivery.deliverer import Outcome
from notifier.delivery.outcome_metrics import record_batch_metrics
from notifier.delivery.runtime import SERVICE, container, logger
from payments_shared.lambda_entry.span import function_name, invocation_span
from payments_shared.observability.metrics import build_metrics

metrics = build_metrics(SERVICE)


def _log(record: dict[str, Any], outcome: Outcome | Exception) -> None:
    if isinstance(outcome, Exception):
        logger.error("delivery failed unexpectedly", extra={"message_id": record["messageId"]}, exc_info=outcome)
        return
    logger.info(
        "delivery attempt",
        extra={"message_id": record["messageId"], "status": outcome.status, "retry_in_s": outcome.retry_in_s},
    )


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcomes: list[tuple[dict[str, Any], Outcome | Exception]] = []  # appended from the batch's threads

    def on_outcome(record: dict[str, Any], outcome: Outcome | Exception) -> None:
        _log(record, outcome)
        outcomes.append((record, outcome))

    with invocation_span(
        "webhook deliveries",
        SpanKind.CONSUMER,
        attributes={"faas.trigger": "pubsub", "faas.name": function_name(context), "messaging.system": "aws_sqs"},
    ):
        response = deliver_batch(
            event,
            container.deliverer(),
            container.visibility(),
            on_outcome=on_outcome,
            on_unpostponed=lambda ids: logger.warning("visibility not changed", extra={"message_ids": ids}),
        )
        # A merchant's endpoint failing is no error of ours: counted and logged, the invocation is not marked failed.
        record_batch_metrics(metrics, outcomes)
        return response


handler = logger.inject_lambda_context(metrics.log_metrics(_handle, capture_cold_start_metric=True), clear_state=True)
