"""The initializer's consumer of the finalizer's PaymentStatusUpdated, PaymentActionRequired,
RefundStatusUpdated and DisputeStatusUpdated (its queue): record the outcome on the order, that the buyer must
authenticate first, a refund's answer, or a dispute's status. When an order becomes final, how long the buyer
waited since the order was accepted (TimeToFinalStatus, the SLO's and the alarms' figure).

A queue batch's first-charge outcomes are written in one transaction, unread (InitializerApp.record_outcomes); one
refused by its order's row (a duplicate, an order not as presumed) is then read and decided on alone, and a record
whose write fails for a reason of its own comes back alone (the partial batch response)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime

from initializer.app import OutcomeCommand, OutcomeMessage
from initializer.domain.commands import (
    FirstCharge,
    RecordDisputeStatus,
    RecordPaymentAction,
    RecordPaymentOutcome,
    RecordRefundOutcome,
)
from initializer.domain.order import FINAL_STATUSES, OrderStatus, PaymentOrder
from initializer.runtime import SERVICE, container, logger
from payments_shared.contracts import (
    DISPUTE_STATUS_UPDATED,
    PAYMENT_ACTION_REQUIRED,
    PAYMENT_STATUS_UPDATED,
    REFUND_STATUS_UPDATED,
    DisputeStatusUpdatedData,
    PaymentActionRequiredData,
    PaymentStatusUpdatedData,
    RefundStatusUpdatedData,
)
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.repository import Cause
from payments_shared.lambda_entry.queue import QueuedRecord, queue_batch_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics


def outcome_command(envelope: EventEnvelope) -> tuple[OutcomeCommand, Cause]:
    """The command the event carries; malformed data raises here, before any I/O."""
    cause = Cause(envelope.correlation_id, str(envelope.event_id))
    if envelope.event_type == REFUND_STATUS_UPDATED:
        refund = RefundStatusUpdatedData.model_validate(envelope.data)
        return RecordRefundOutcome(
            str(refund.payment_order_id),
            str(refund.refund_id),
            refund.status,
            refund.failure_reason,
            str(envelope.event_id),
        ), cause
    if envelope.event_type == DISPUTE_STATUS_UPDATED:
        dispute = DisputeStatusUpdatedData.model_validate(envelope.data)
        return RecordDisputeStatus(
            str(dispute.payment_order_id),
            dispute.dispute_id,
            dispute.money(),
            dispute.fee(),
            dispute.status,
            dispute.reason,
            str(envelope.event_id),
        ), cause
    if envelope.event_type == PAYMENT_ACTION_REQUIRED:
        action = PaymentActionRequiredData.model_validate(envelope.data)
        return RecordPaymentAction(
            str(action.payment_order_id),
            action.next_action_type,
            action.redirect_url,
            action.client_secret,
            str(envelope.event_id),
        ), cause
    data = PaymentStatusUpdatedData.model_validate(envelope.data)
    first = None if data.initiated_at is None else FirstCharge(data.merchant_id, data.money(), data.initiated_at)
    return RecordPaymentOutcome(
        str(data.payment_order_id),
        data.status,
        data.error_message,
        str(envelope.event_id),
        amount_minor=data.amount_minor,  # the hold, or what a manual capture took (the order keeps it if manual)
        first_charge=first,  # the outcome of a first charge: recorded without reading the order first
    ), cause


metrics = build_metrics(SERVICE)


def time_to_final_ms(order: PaymentOrder | None, now: datetime) -> float | None:
    """From the order's acceptance to its final status, when this recording made it final: for a manual
    capture, to its authorization (the buyer is done then; the merchant's capture comes days later)."""
    if order is None:
        return None
    if order.capture_method == "manual" and order.status != OrderStatus.AUTHORIZED:
        return None
    if order.capture_method != "manual" and order.status not in FINAL_STATUSES:
        return None
    return (now - order.created_at).total_seconds() * 1000


RECORDED = (PAYMENT_STATUS_UPDATED, PAYMENT_ACTION_REQUIRED, REFUND_STATUS_UPDATED, DISPUTE_STATUS_UPDATED)


def _record_outcomes(records: Sequence[QueuedRecord]) -> list[None | Exception]:
    """The batch's outcomes recorded together (InitializerApp.record_outcomes: the first charges' in one write);
    malformed data fails only its record, before any I/O."""
    outcomes: list[None | Exception] = [None] * len(records)
    messages: list[OutcomeMessage] = []
    positions: list[int] = []
    for n, record in enumerate(records):
        if record.envelope.event_type not in RECORDED:
            continue
        try:
            command, cause = record.run(functools.partial(outcome_command, record.envelope))
        except Exception as malformed:  # noqa: BLE001 - this record's own fault: it alone comes back
            outcomes[n] = malformed
            continue
        messages.append(OutcomeMessage(command, cause, record.trace(), record.run))
        positions.append(n)
    recorded = container.app().record_outcomes(messages) if messages else []
    now = datetime.now(UTC)
    for n, message, result in zip(positions, messages, recorded, strict=True):
        if isinstance(result, Exception):
            outcomes[n] = result
        elif not isinstance(message.command, RecordRefundOutcome | RecordDisputeStatus):
            # A refund's answer or a dispute: the payment was final long before.
            waited_ms = time_to_final_ms(result, now)
            if waited_ms is not None:
                metrics.add_metric(name="TimeToFinalStatus", unit=MetricUnit.Milliseconds, value=waited_ms)
    return outcomes


handler = queue_batch_entry(_record_outcomes, logger=logger, metrics=metrics)
