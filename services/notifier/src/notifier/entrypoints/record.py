"""notifier-record: the merchant-visible events from its queue (`notifier-inbox`), each recorded once as the
merchant's event, then one delivery queued per endpoint that wants its type (again on a redelivery: at least
once; the deliverer's receivers may see duplicates, never a gap)."""

from __future__ import annotations

from notifier.domain.catalog import merchant_event
from notifier.runtime import SERVICE, container, logger
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics

metrics = build_metrics(SERVICE)


def _consume(envelope: EventEnvelope) -> None:
    # The envelope's data has passed its contract (queue_entry): the catalog reads plain values.
    event = merchant_event(envelope.event_type, str(envelope.event_id), envelope.occurred_at, envelope.data)
    if event is None:
        logger.info("not a merchant event", extra={"event_type": envelope.event_type})
        return
    result = container.app().record(event)
    if result.recorded:
        metrics.add_metric(name="MerchantEventsRecorded", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="WebhookDeliveriesQueued", unit=MetricUnit.Count, value=result.queued)
    logger.info(
        "merchant event recorded",
        extra={
            "merchant_event_id": event.event_id,
            "type": event.type,
            "first_time": result.recorded,
            "queued": result.queued,
        },
    )


# A batch's events of one merchant share one look-up of its endpoints (NotifierApp.new_batch).
handler = queue_entry(_consume, logger=logger, metrics=metrics, before_batch=lambda: container.app().new_batch())
