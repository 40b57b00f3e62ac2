"""Lambda entry points of the ledger: the PaymentStatusUpdated consumer, the account-totals projection (fed
by the ledger's DynamoDB stream) and the trial-balance endpoint."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from ledger.container import build_container
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.projection import project_stream_batch
from payments_shared.lambda_entry import http_entry, queue_entry, stream_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import MetricUnit, build_metrics

SERVICE = "ledger"
logger = build_logger(SERVICE)
metrics = build_metrics(SERVICE)
container = build_container()
api = APIGatewayRestResolver(enable_validation=True)


def _post(envelope: EventEnvelope) -> None:
    entry = container.app().post_payment(envelope)
    if entry is None:
        logger.info("nothing to post (failed payment or already posted)")
        return
    metrics.add_metric(name="JournalEntriesPosted", unit=MetricUnit.Count, value=1)
    logger.info("journal entry posted", extra={"postings": len(entry.postings)})


@api.get("/ledger/trial-balance")
def trial_balance() -> dict[str, object]:
    balance = container.app().trial_balance()
    return {
        "balanced": balance.is_balanced(),
        "totals": {c: {"debits_minor": d, "credits_minor": k} for c, (d, k) in balance.totals().items()},
        "accounts": [
            {"account": a.account, "currency": a.currency, "debits_minor": a.debits_minor,
             "credits_minor": a.credits_minor}
            for a in balance.accounts
        ],
    }  # fmt: skip


handler = queue_entry(_post, logger=logger, metrics=metrics)
totals_handler = stream_entry(lambda event: project_stream_batch(event, container.app().add_to_totals),
                              logger=logger, metrics=metrics)  # fmt: skip
api_handler = http_entry(api, logger=logger, metrics=metrics)
