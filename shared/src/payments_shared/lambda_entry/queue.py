"""Queue consumers: EventBridge rule → SQS → event source mapping, with partial batch responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from payments_shared.contracts import check_contract, contract_violations
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.span import LambdaHandler, function_name, invocation_span
from payments_shared.observability.propagation import context_from, message_parent
from payments_shared.observability.tracing import mark_error


def queue_entry(consume: Callable[[EventEnvelope], None], *, logger: Logger, metrics: Metrics) -> LambdaHandler:
    """A consumer behind its queue (EventBridge rule → SQS → event source mapping).

    Each record is one EventBridge event, processed on its own: a record that raises (a malformed event, an
    outcome not yet known, retries run out) is reported in the partial batch response and only it comes
    back after the visibility timeout, until the queue's redrive parks it in the DLQ. Its neighbours'
    effects are neither undone nor repeated.
    """

    def process(record: SQSRecord, lambda_context: Any = None) -> None:
        event = json.loads(record.body)  # the EventBridge event the rule put on the queue
        try:
            envelope = EventEnvelope.from_eventbridge_event(event)
            check_contract(envelope)  # refused before anything is applied: never half-applied
        except ValidationError as refused:
            # Field names only: the values may be card data. The queue parks it after its receives; `payments-ops
            # dlq list` names the same fields.
            logger.error(
                "event refused by its contract",
                extra={"message_id": record.message_id, "fields": contract_violations(refused)},
            )
            raise
        logger.append_keys(
            event_id=str(envelope.event_id), event_type=envelope.event_type, correlation_id=envelope.correlation_id
        )
        parent, links = message_parent(context_from(envelope.trace))
        with invocation_span(
            f"{envelope.event_type} process",
            SpanKind.CONSUMER,
            parent=parent,
            links=links,
            attributes={
                "faas.trigger": "pubsub",
                "faas.name": function_name(lambda_context),
                "messaging.system": "aws_sqs",
                "messaging.operation.type": "process",
                "messaging.message.id": record.message_id,
                "messaging.source": str(event.get("source")),
                "payments.event_id": str(envelope.event_id),
                "payments.receive_count": int(record.attributes.approximate_receive_count or 1),
            },
        ):
            consume(envelope)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # A processor per invocation: it keeps the batch's successes and failures on itself, and nothing of
        # one batch may reach the next one's report (a failed record deleted as done is a payment lost). The
        # whole batch failing is reported the same way (no exception): the mapping retries each record.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response = process_partial_response(event=event, record_handler=process, processor=processor, context=context)
        if response.get("batchItemFailures"):
            logger.warning("records left for redelivery", extra={"failures": len(response["batchItemFailures"])})
            outer = trace.get_current_span()
            if outer.is_recording():  # the OneAgent's invocation span: show the invocation as failed
                mark_error([outer], description="some records failed")
        return dict(response)

    return logger.inject_lambda_context(metrics.log_metrics(handler, capture_cold_start_metric=True), clear_state=True)
