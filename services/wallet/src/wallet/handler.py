"""Lambda entry points of the wallet: credit on PaymentStatusUpdated(SUCCESS); GET /wallets/{merchant_id} is in
wallet.api, reached through `api_handler` here."""

from __future__ import annotations

from typing import Any

from payments_shared import snapstart
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import MetricUnit, build_metrics
from wallet.container import build_container

SERVICE = "wallet"
logger = build_logger(SERVICE)
metrics = build_metrics(SERVICE)
container = build_container()
snapstart.install(container.reset_singletons)  # a restored copy rebuilds its clients (SnapStart)


def _credit(envelope: EventEnvelope) -> None:
    result = container.app().credit(envelope)
    if result.conflicts:
        metrics.add_metric(name="WalletConflictsRetried", unit=MetricUnit.Count, value=result.conflicts)
    if result.credited:
        metrics.add_metric(name="WalletCredits", unit=MetricUnit.Count, value=1)
    logger.info("wallet credit", extra={"credited": result.credited, "conflicts": result.conflicts})


handler = queue_entry(_credit, logger=logger, metrics=metrics)


def __getattr__(name: str) -> Any:
    """The HTTP entry point lives in wallet.api, loaded only by the function that serves it (and by tools
    that ask for it here), so this module's consumers never import the HTTP resolver."""
    if name in ("api_handler", "api"):
        from wallet import api

        return getattr(api, "handler" if name == "api_handler" else "api")
    raise AttributeError(name)
