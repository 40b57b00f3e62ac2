"""The finalizer's consumer of PaymentInitiated (its queue): charge the payment once, record the outcome."""

from __future__ import annotations

from finalizer.app import Finalized
from finalizer.domain.payment import ChargePayment
from finalizer.outcome_metrics import record_metrics
from finalizer.runtime import SERVICE, container, logger
from payments_shared.contracts import PaymentInitiatedData
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.lambda_entry.span import LambdaHandler
from payments_shared.observability.metrics import build_metrics

metrics = build_metrics(SERVICE)


def charge_command(envelope: EventEnvelope) -> ChargePayment:
    """The command a PaymentInitiated event carries; malformed data raises here, before any I/O."""
    payment = PaymentInitiatedData.model_validate(envelope.data)
    return ChargePayment(
        payment.payment_order_id,
        payment.merchant_id,
        payment.money(),
        payment.payment_details,
        envelope.correlation_id,
        str(envelope.event_id),
        envelope.occurred_at,
        payment.payment_method,
        payment.return_url,
        payment.capture_method,
    )


def _charge(envelope: EventEnvelope) -> Finalized:
    """Raises when the PSP's outcome stays unknown after bounded retries: the queue then redelivers the
    event (the next attempt first asks the PSP by idempotency key) and finally parks it in the DLQ. A
    guess either way would risk a charge without a record or a record without a charge. Runs on one of the
    batch's threads: each record is its own decision and its own store transaction."""
    result = container.app().charge(charge_command(envelope))
    if not result.charged_now:
        logger.info("duplicate delivery: payment already decided", extra={"status": result.status.value})
    else:
        logger.info(
            "payment finalized", extra={"payment_order_id": result.payment_order_id, "status": result.status.value}
        )
    return result


def _record_metrics(result: Finalized) -> None:
    if result.charged_now:  # a duplicate delivery adds nothing
        record_metrics(metrics, result)


def build_handler(concurrency: int) -> LambdaHandler:
    """The consumer charging up to `concurrency` records of a batch at once (one slow PSP answer delays only its
    own record); metrics are added in the invoking thread once the batch is done."""
    return queue_entry(_charge, logger=logger, metrics=metrics, concurrency=concurrency, after_each=_record_metrics)


handler = build_handler(container.config.charge_concurrency())
