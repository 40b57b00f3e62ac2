"""The wallet's consumer of PaymentStatusUpdated (its queue): credit the merchant for a successful payment, once."""

from __future__ import annotations

from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.repository import Cause
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics
from wallet.app import CreditResult
from wallet.domain.wallet import CreditWallet
from wallet.runtime import SERVICE, container, logger

metrics = build_metrics(SERVICE)


def credit_command(envelope: EventEnvelope) -> tuple[CreditWallet, Cause] | None:
    """The credit a PaymentStatusUpdated event asks for; None for a FAILED payment (nothing to credit).
    Malformed data raises here, before any I/O."""
    data = PaymentStatusUpdatedData.model_validate(envelope.data)
    amount = data.money()
    if data.status != "SUCCESS":
        return None
    command = CreditWallet(str(data.merchant_id), amount, str(data.payment_order_id), str(envelope.event_id))
    return command, Cause(envelope.correlation_id, str(envelope.event_id))


def _credit(envelope: EventEnvelope) -> None:
    asked = credit_command(envelope)
    result = container.app().credit(*asked) if asked else CreditResult(credited=False)
    if result.conflicts:
        metrics.add_metric(name="WalletConflictsRetried", unit=MetricUnit.Count, value=result.conflicts)
    if result.credited:
        metrics.add_metric(name="WalletCredits", unit=MetricUnit.Count, value=1)
    logger.info("wallet credit", extra={"credited": result.credited, "conflicts": result.conflicts})


handler = queue_entry(_credit, logger=logger, metrics=metrics)
