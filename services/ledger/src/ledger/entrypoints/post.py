"""The ledger's consumer of PaymentStatusUpdated, RefundStatusUpdated, DisputeStatusUpdated and PspPayoutUpdated (its
queue: all four are the finalizer's), and of the wallet's PayoutPaid (its own queue, ledger-payouts): post the entry
of the business event each tells of (a capture, a refund, a refund's reversal, a dispute, a dispute won, a payout,
the PSP's payout to our bank or its failure) to its journal, once."""

from __future__ import annotations

from ledger.domain.journal import (
    DISPUTE_ENTRIES,
    PAYMENT_ENTRIES,
    PSP_PAYOUT_ENTRIES,
    REFUND_ENTRIES,
    EntryType,
    PostEntry,
)
from ledger.runtime import SERVICE, container, logger
from payments_shared.contracts import (
    DISPUTE_STATUS_UPDATED,
    PAYOUT_PAID,
    PSP_PAYOUT_UPDATED,
    REFUND_STATUS_UPDATED,
    DisputeStatusUpdatedData,
    PaymentStatusUpdatedData,
    PayoutPaidData,
    PspPayoutUpdatedData,
    RefundStatusUpdatedData,
)
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.repository import Cause
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics

metrics = build_metrics(SERVICE)


def post_command(envelope: EventEnvelope) -> tuple[PostEntry, Cause] | None:
    """The entry an event asks for; None for a FAILED payment or refund, or a LOST dispute (nothing more moved,
    nothing to book). Malformed data raises here, before any I/O."""
    command: PostEntry | None
    if envelope.event_type == PAYOUT_PAID:
        command = _payout(envelope)
    elif envelope.event_type == PSP_PAYOUT_UPDATED:
        command = _psp_payout(envelope)
    elif envelope.event_type == DISPUTE_STATUS_UPDATED:
        command = _dispute(envelope)
    else:
        command = _refund(envelope) if envelope.event_type == REFUND_STATUS_UPDATED else _payment(envelope)
    return (command, Cause(envelope.correlation_id, str(envelope.event_id))) if command else None


def _payment(envelope: EventEnvelope) -> PostEntry | None:
    data = PaymentStatusUpdatedData.model_validate(envelope.data)
    amount, entry_type = data.money(), PAYMENT_ENTRIES.get(data.status)
    if entry_type is None:
        return None
    order = str(data.payment_order_id)
    return PostEntry(entry_type, order, order, str(data.merchant_id), amount, str(envelope.event_id))


def _refund(envelope: EventEnvelope) -> PostEntry | None:
    data = RefundStatusUpdatedData.model_validate(envelope.data)
    amount, entry_type = data.money(), REFUND_ENTRIES.get(data.status)
    if entry_type is None:
        return None
    return PostEntry(
        entry_type,
        str(data.refund_id),
        str(data.payment_order_id),
        str(data.merchant_id),
        amount,
        str(envelope.event_id),
    )


def _dispute(envelope: EventEnvelope) -> PostEntry | None:
    data = DisputeStatusUpdatedData.model_validate(envelope.data)
    amount, fee, entry_type = data.money(), data.fee(), DISPUTE_ENTRIES.get(data.status)
    if entry_type is None:
        return None
    order = str(data.payment_order_id)
    return PostEntry(entry_type, data.dispute_id, order, str(data.merchant_id), amount, str(envelope.event_id), fee)


def _payout(envelope: EventEnvelope) -> PostEntry:
    """A payout names no payment: its entry's stream is the payout's own (ledger.domain.streams)."""
    data = PayoutPaidData.model_validate(envelope.data)
    payout_id = str(data.payout_id)
    return PostEntry(EntryType.PAYOUT, payout_id, "", str(data.merchant_id), data.money(), str(envelope.event_id))


def _psp_payout(envelope: EventEnvelope) -> PostEntry:
    """The PSP's payout to our bank names no payment nor merchant: its entries' streams are the payout's own."""
    data = PspPayoutUpdatedData.model_validate(envelope.data)
    entry_type = PSP_PAYOUT_ENTRIES[data.status]
    return PostEntry(entry_type, data.payout_id, "", "", data.money(), str(envelope.event_id))


def _post(envelope: EventEnvelope) -> None:
    asked = post_command(envelope)
    entry = container.app().post(*asked) if asked else None
    if entry is None:
        logger.info("nothing to post (failed payment or refund, or already posted)")
        return
    metrics.add_metric(name="JournalEntriesPosted", unit=MetricUnit.Count, value=1)
    logger.info("journal entry posted", extra={"entry_type": entry.entry_type, "postings": len(entry.postings)})


handler = queue_entry(_post, logger=logger, metrics=metrics)
