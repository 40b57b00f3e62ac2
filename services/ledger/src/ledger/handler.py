"""Lambda entry points of the ledger: the PaymentStatusUpdated consumer and the account-totals projection (fed
by the ledger's DynamoDB stream); the trial-balance endpoint is in ledger.api, reached through `api_handler`."""

from __future__ import annotations

from typing import Any

from ledger.container import build_container
from payments_shared import snapstart
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.projection import project_stream_batch
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.lambda_entry.stream import stream_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import MetricUnit, build_metrics

SERVICE = "ledger"
logger = build_logger(SERVICE)
metrics = build_metrics(SERVICE)
container = build_container()
snapstart.install(container.reset_singletons)  # a restored copy rebuilds its clients (SnapStart)


def _post(envelope: EventEnvelope) -> None:
    entry = container.app().post_payment(envelope)
    if entry is None:
        logger.info("nothing to post (failed payment or already posted)")
        return
    metrics.add_metric(name="JournalEntriesPosted", unit=MetricUnit.Count, value=1)
    logger.info("journal entry posted", extra={"postings": len(entry.postings)})


handler = queue_entry(_post, logger=logger, metrics=metrics)
totals_handler = stream_entry(
    lambda event: project_stream_batch(event, container.app().add_to_totals),
    logger=logger,
    metrics=build_metrics(SERVICE),
)  # (its own: see build_metrics)


def __getattr__(name: str) -> Any:
    """The HTTP entry point lives in ledger.api, loaded only by the function that serves it (and by tools
    that ask for it here), so this module's consumers never import the HTTP resolver."""
    if name in ("api_handler", "api"):
        from ledger import api

        return getattr(api, "handler" if name == "api_handler" else "api")
    raise AttributeError(name)
