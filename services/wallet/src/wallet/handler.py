"""Lambda entry points of the wallet: credit on PaymentStatusUpdated(SUCCESS), GET /wallets/{merchant_id}."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path

from payments_shared.events import EventEnvelope
from payments_shared.ids import MerchantId
from payments_shared.lambda_entry import http_entry, queue_entry
from payments_shared.money import Money
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import MetricUnit, build_metrics
from wallet.container import build_container

SERVICE = "wallet"
logger = build_logger(SERVICE)
metrics = build_metrics(SERVICE)
container = build_container()
api = APIGatewayRestResolver(enable_validation=True)


def _credit(envelope: EventEnvelope) -> None:
    result = container.app().credit(envelope)
    if result.conflicts:
        metrics.add_metric(name="WalletConflictsRetried", unit=MetricUnit.Count, value=result.conflicts)
    if result.credited:
        metrics.add_metric(name="WalletCredits", unit=MetricUnit.Count, value=1)
    logger.info("wallet credit", extra={"credited": result.credited, "conflicts": result.conflicts})


@api.get("/wallets/<merchant_id>")
def get_wallet(merchant_id: Annotated[MerchantId, Path()]) -> dict[str, object]:
    wallet = container.app().balances(merchant_id)
    balances = sorted(wallet["balances"].items())
    return {
        "merchant_id": merchant_id,
        "balances": [
            {"currency": currency, "amount": Money(minor, currency).to_decimal_string(), "amount_minor": minor}
            for currency, minor in balances
        ],
        "version": wallet["version"],
    }


handler = queue_entry(_credit, logger=logger, metrics=metrics)
api_handler = http_entry(api, logger=logger, metrics=metrics)
