"""The wallet's consumer of PaymentStatusUpdated, RefundStatusUpdated and DisputeStatusUpdated (its queue): credit
the merchant for a successful payment net of fees, debit a refund the PSP took, credit back a refund reversed
later, debit a dispute's amount and fee, credit a won dispute's amount back, each once."""

from __future__ import annotations

from payments_shared.contracts import (
    DISPUTE_STATUS_UPDATED,
    REFUND_STATUS_UPDATED,
    DisputeStatusUpdatedData,
    PaymentStatusUpdatedData,
    RefundStatusUpdatedData,
)
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.repository import Cause
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics
from wallet.app import CreditResult
from wallet.domain.wallet import CreditWallet, Dispute, Refund
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


def refund_command(envelope: EventEnvelope) -> tuple[Refund, Cause] | None:
    """The move a RefundStatusUpdated event asks for; None for a FAILED refund (nothing moved; the queue's
    pattern does not deliver it, this says so again). Malformed data raises here, before any I/O."""
    data = RefundStatusUpdatedData.model_validate(envelope.data)
    amount = data.money()
    if data.status == "FAILED":
        return None
    command = Refund(
        str(data.merchant_id),
        amount,
        str(data.payment_order_id),
        str(data.refund_id),
        reversed=data.status == "REVERSED",
        source_event_id=str(envelope.event_id),
    )
    return command, Cause(envelope.correlation_id, str(envelope.event_id))


def dispute_command(envelope: EventEnvelope) -> tuple[Dispute, Cause] | None:
    """The move a DisputeStatusUpdated event asks for; None for a LOST dispute (nothing more moved; the queue's
    pattern does not deliver it). Malformed data raises here, before any I/O."""
    data = DisputeStatusUpdatedData.model_validate(envelope.data)
    if data.status == "LOST":
        return None
    command = Dispute(
        str(data.merchant_id),
        data.money(),
        data.fee(),
        str(data.payment_order_id),
        data.dispute_id,
        won=data.status == "WON",
        source_event_id=str(envelope.event_id),
    )
    return command, Cause(envelope.correlation_id, str(envelope.event_id))


def move(envelope: EventEnvelope) -> CreditResult:
    """What the event does to the merchant's wallet (the real consumer's work, without its metrics)."""
    app = container.app()
    if envelope.event_type == DISPUTE_STATUS_UPDATED:
        dispute = dispute_command(envelope)
        return app.dispute(*dispute) if dispute else CreditResult(credited=False)
    if envelope.event_type == REFUND_STATUS_UPDATED:
        refund = refund_command(envelope)
        return app.refund(*refund) if refund else CreditResult(credited=False)
    credit = credit_command(envelope)
    return app.credit(*credit) if credit else CreditResult(credited=False)


def _consume(envelope: EventEnvelope) -> None:
    result = move(envelope)
    if result.conflicts:
        metrics.add_metric(name="WalletConflictsRetried", unit=MetricUnit.Count, value=result.conflicts)
    if result.credited:
        metrics.add_metric(name="WalletCredits", unit=MetricUnit.Count, value=1)
    logger.info("wallet move", extra={"moved": result.credited, "conflicts": result.conflicts})


handler = queue_entry(_consume, logger=logger, metrics=metrics)
