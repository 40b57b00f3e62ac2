"""Queue consumers: EventBridge rule → SQS → event source mapping, with partial batch responses."""

from __future__ import annotations

import contextvars
import functools
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from pydantic import ValidationError

from payments_shared.contracts import check_contract, contract_violations
from payments_shared.events import EventEnvelope, TraceContext
from payments_shared.lambda_entry.batch import BatchProcessor, EventType, process_partial_response
from payments_shared.lambda_entry.span import (
    LambdaHandler,
    function_name,
    invocation_span,
    start_invocation_span,
)
from payments_shared.observability.propagation import context_from, current_trace_context, message_parent
from payments_shared.observability.tracing import mark_error

T = TypeVar("T")


class _ConcurrentBatchProcessor(BatchProcessor):
    """Powertools' SQS batch processor with the batch's records processed on up to `pool`'s workers at once. Each
    record runs in its own copy of the invocation's context (copied in the invoking thread: a worker thread starts
    with an empty one), so its spans join the invocation's trace and its logger keys stay its own. Successes and
    failures are kept as Powertools keeps them (list appends); the partial batch response is built as before."""

    def __init__(self, pool: ThreadPoolExecutor | None) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._pool = pool
        self.outcomes: list[tuple[Any, ...]] = []  # ("success", result, record) or ("fail", error, record), in order

    def process(self) -> list[tuple[Any, ...]]:
        contexts = [contextvars.copy_context() for _ in self.records]
        if self._pool is None or len(self.records) < 2:
            self.outcomes = [ctx.run(self._process_record, r) for ctx, r in zip(contexts, self.records, strict=True)]
        else:
            pool, records = self._pool, self.records
            futures = [pool.submit(ctx.run, self._process_record, r) for ctx, r in zip(contexts, records, strict=True)]
            self.outcomes = [future.result() for future in futures]  # a record's error is its outcome, never raised
        return self.outcomes


def queue_entry(
    consume: Callable[[EventEnvelope], T],
    *,
    logger: Logger,
    metrics: Metrics,
    concurrency: int = 1,
    after_each: Callable[[T], None] | None = None,
    before_batch: Callable[[], None] | None = None,
) -> LambdaHandler:
    """A consumer behind its queue (EventBridge rule → SQS → event source mapping).

    Each record is one EventBridge event, processed on its own: a record that raises (a malformed event, an
    outcome not yet known, retries run out) is reported in the partial batch response and only it comes
    back after the visibility timeout, until the queue's redrive parks it in the DLQ. Its neighbours'
    effects are neither undone nor repeated.

    With `concurrency` > 1, up to that many records of a batch are processed at once, on threads kept for the
    process's life (their HTTP sessions, e.g. the Stripe SDK's one per thread, are reused by the next batches):
    one slow record then delays only itself. `consume` must then be safe to run on several threads. `after_each`
    gets each processed record's result in the invoking thread once the batch is done, in record order: Powertools
    Metrics keeps one unlocked buffer per process (and single_metric prints at once), so metrics go there.
    `before_batch` runs in the invoking thread before each batch's first record (e.g. to start a batch's shared
    look-ups afresh).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="record") if concurrency > 1 else None

    def process(record: SQSRecord, lambda_context: Any = None) -> T:
        envelope = _accepted(record, logger)
        with invocation_span(**_record_span(record, envelope, lambda_context)):
            return consume(envelope)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # A processor per invocation: it keeps the batch's successes and failures on itself, and nothing of
        # one batch may reach the next one's report (a failed record deleted as done is a payment lost). The
        # whole batch failing is reported the same way (no exception): the mapping retries each record.
        processor = _ConcurrentBatchProcessor(pool)
        if before_batch is not None:
            before_batch()
        response = process_partial_response(event=event, record_handler=process, processor=processor, context=context)
        if after_each is not None:
            for outcome, result, _ in processor.outcomes:
                if outcome == "success":
                    after_each(result)
        if response.get("batchItemFailures"):
            logger.warning("records left for redelivery", extra={"failures": len(response["batchItemFailures"])})
            outer = trace.get_current_span()
            if outer.is_recording():  # the OneAgent's invocation span: show the invocation as failed
                mark_error([outer], description="some records failed")
        return dict(response)

    return logger.inject_lambda_context(metrics.log_metrics(handler, capture_cold_start_metric=True), clear_state=True)


def _accepted(record: SQSRecord, logger: Logger) -> EventEnvelope:
    """The record's event, checked against its contract before anything is applied (never half-applied); the
    record's logger keys set in the current context."""
    event = json.loads(record.body)  # the EventBridge event the rule put on the queue
    try:
        envelope = EventEnvelope.from_eventbridge_event(event)
        check_contract(envelope)
    except ValidationError as refused:
        # Field names only: the values may be card data. The queue parks it after its receives; `payments-ops
        # dlq list` names the same fields.
        logger.error(
            "event refused by its contract",
            extra={"message_id": record.message_id, "fields": contract_violations(refused)},
        )
        raise
    logger.thread_safe_append_keys(  # this record's context only (each record runs in its own copy)
        event_id=str(envelope.event_id), event_type=envelope.event_type, correlation_id=envelope.correlation_id
    )
    return envelope


def _record_span(record: SQSRecord, envelope: EventEnvelope, lambda_context: Any) -> dict[str, Any]:
    """The record's own span (invocation_span's arguments): a child of the context its producer stored."""
    parent, links = message_parent(context_from(envelope.trace))
    return {
        "name": f"{envelope.event_type} process",
        "kind": SpanKind.CONSUMER,
        "parent": parent,
        "links": links,
        "attributes": {
            "faas.trigger": "pubsub",
            "faas.name": function_name(lambda_context),
            "messaging.system": "aws_sqs",
            "messaging.operation.type": "process",
            "messaging.message.id": record.message_id,
            "messaging.source": str(json.loads(record.body).get("source")),
            "payments.event_id": str(envelope.event_id),
            "payments.receive_count": int(record.attributes.approximate_receive_count or 1),
        },
    }


@dataclass(frozen=True)
class QueuedRecord:
    """A record of a batch, accepted by its contract, with its own span and logger keys (as queue_entry gives each
    record): its per-record work runs in them (`run`), and the events it writes carry its trace (`trace`)."""

    envelope: EventEnvelope
    message_id: str
    span: Span
    context: contextvars.Context

    def run(self, work: Callable[[], T]) -> T:
        return self.context.run(_in_span, self.span, work)

    def trace(self) -> TraceContext:
        return current_trace_context(self.span)


def _start_record_span(record: SQSRecord, envelope: EventEnvelope, lambda_context: Any) -> Span:
    return start_invocation_span(**_record_span(record, envelope, lambda_context))


def _in_span(span: Span, work: Callable[[], T]) -> T:
    with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
        return work()


def queue_batch_entry(
    consume: Callable[[Sequence[QueuedRecord]], Sequence[T | Exception]],
    *,
    logger: Logger,
    metrics: Metrics,
    after_each: Callable[[T], None] | None = None,
) -> LambdaHandler:
    """A consumer behind its queue that handles a batch's records together (one write for all, not one each).

    Each record is checked against its contract and gets its own span and logger keys, as in queue_entry;
    `consume` gets the accepted records in order and answers each one's result, or the exception that failed it.
    Only the records that failed (refused by their contract, or answered with an exception; all of them if
    `consume` raises) are reported in the partial batch response and come back after the visibility timeout:
    their neighbours' effects are neither undone nor repeated. `after_each` as in queue_entry.
    """

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures: list[str] = []
        accepted: list[QueuedRecord] = []
        for raw in event.get("Records", []):
            record = SQSRecord(raw)
            record_context = contextvars.copy_context()  # its logger keys stay its own
            try:
                envelope = record_context.run(_accepted, record, logger)
            except Exception:  # noqa: BLE001 - refused by its contract (logged): only it comes back
                failures.append(record.message_id)
                continue
            span = record_context.run(_start_record_span, record, envelope, context)
            accepted.append(QueuedRecord(envelope, record.message_id, span, record_context))
        try:
            outcomes: Sequence[Any] = consume(accepted)
        except Exception as error:  # nothing of the batch is known done: every record comes back
            logger.exception("batch failed")
            outcomes = [error] * len(accepted)
        for queued, outcome in zip(accepted, outcomes, strict=True):
            if isinstance(outcome, Exception):
                failures.append(queued.message_id)
                queued.run(functools.partial(logger.error, "record failed", exc_info=outcome))
                mark_error([queued.span], outcome)
            queued.span.end()
        if after_each is not None:
            for outcome in outcomes:
                if not isinstance(outcome, Exception):
                    after_each(outcome)
        if failures:
            logger.warning("records left for redelivery", extra={"failures": len(failures)})
            outer = trace.get_current_span()
            if outer.is_recording():  # the OneAgent's invocation span: show the invocation as failed
                mark_error([outer], description="some records failed")
        order = [record["messageId"] for record in event.get("Records", [])]
        failures.sort(key=order.index)
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}

    return logger.inject_lambda_context(metrics.log_metrics(handler, capture_cold_start_metric=True), clear_state=True)
