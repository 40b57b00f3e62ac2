"""The ledger's consumer of PaymentStatusUpdated (its queue): post a captured payment to its journal, once."""

from __future__ import annotations

from ledger.domain.journal import PostPayment
from ledger.runtime import SERVICE, container, logger
from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.repository import Cause
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics

metrics = build_metrics(SERVICE)


def post_command(envelope: EventEnvelope) -> tuple[PostPayment, Cause]:
    """The command a PaymentStatusUpdated event carries; malformed data raises here, before any I/O."""
    data = PaymentStatusUpdatedData.model_validate(envelope.data)
    command = PostPayment(
        str(data.payment_order_id), str(data.merchant_id), data.money(), data.status, str(envelope.event_id)
    )
    return command, Cause(envelope.correlation_id, str(envelope.event_id))


def _post(envelope: EventEnvelope) -> None:
    entry = container.app().post_payment(*post_command(envelope))
    if entry is None:
        logger.info("nothing to post (failed payment or already posted)")
        return
    metrics.add_metric(name="JournalEntriesPosted", unit=MetricUnit.Count, value=1)
    logger.info("journal entry posted", extra={"postings": len(entry.postings)})


handler = queue_entry(_post, logger=logger, metrics=metrics)
