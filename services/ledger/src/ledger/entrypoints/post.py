"""The ledger's consumer of PaymentStatusUpdated, RefundStatusUpdated, DisputeStatusUpdated and PspPayoutUpdated (its
queue: all four are the finalizer's), and of the wallet's PayoutPaid (its own queue, ledger-payouts): post the entry
of the business event each tells of (a capture and the PSP's fee on it, a refund, a refund's reversal, a dispute, a
dispute won, a payout, the PSP's payout to our bank or its failure) to its journal, once. A SUCCESS that carries the
PSP's fee books it in its capture entry (since 2026-12-06; older payments have a psp_fee entry of their own, written
with the capture: docs/DESIGN.md, the ledger): a redelivery finds `journal-<order>` taken, whichever code posted it.
A queue batch's entries are all written in one transaction (LedgerApp.post_batch): a record whose entries were posted
before costs the batch one refused write, after which the rest is written without it; a record whose write fails for
a reason of its own comes back alone (the partial batch response)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ledger.domain.journal import (
    DISPUTE_ENTRIES,
    PAYMENT_ENTRIES,
    PSP_PAYOUT_ENTRIES,
    REFUND_ENTRIES,
    EntryType,
    JournalEntryPosted,
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
from payments_shared.lambda_entry.queue import QueuedRecord, queue_batch_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics

metrics = build_metrics(SERVICE)


def post_commands(envelope: EventEnvelope) -> tuple[list[PostEntry], Cause]:
    """The entries an event asks for; none for a FAILED payment or refund, or a LOST dispute (nothing more moved,
    nothing to book). Malformed data raises here, before any I/O."""
    commands: list[PostEntry | None]
    if envelope.event_type == PAYOUT_PAID:
        commands = [_payout(envelope)]
    elif envelope.event_type == PSP_PAYOUT_UPDATED:
        commands = [_psp_payout(envelope)]
    elif envelope.event_type == DISPUTE_STATUS_UPDATED:
        commands = [_dispute(envelope)]
    elif envelope.event_type == REFUND_STATUS_UPDATED:
        commands = [_refund(envelope)]
    else:
        commands = [_payment(envelope)]
    return [c for c in commands if c is not None], Cause(envelope.correlation_id, str(envelope.event_id))


def _payment(envelope: EventEnvelope) -> PostEntry | None:
    """A SUCCESS's capture, carrying the PSP's fee on it when the finalizer learned it (> 0, in the payment's
    currency): one entry, one stream (no psp_fee entry of its own any more: one event item and one totals marker the
    less per payment, issue 32)."""
    data = PaymentStatusUpdatedData.model_validate(envelope.data)
    amount, entry_type, psp_fee = data.money(), PAYMENT_ENTRIES.get(data.status), data.psp_fee()
    if entry_type is None:
        return None
    order, merchant, event_id = str(data.payment_order_id), str(data.merchant_id), str(envelope.event_id)
    return PostEntry(entry_type, order, order, merchant, amount, event_id, psp_fee=psp_fee)


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


def _post(records: Sequence[QueuedRecord]) -> list[list[JournalEntryPosted] | Exception]:
    """Each record's entries, decided in its own span (malformed data fails only it, before any I/O), posted
    together; per record, the entries posted now or what failed it."""
    outcomes: list[list[JournalEntryPosted] | Exception] = [[] for _ in records]
    messages, positions = [], []
    for n, record in enumerate(records):
        try:
            commands, cause = record.run(functools.partial(post_commands, record.envelope))
        except Exception as malformed:  # noqa: BLE001 - this record's own fault: it alone comes back
            outcomes[n] = malformed
            continue
        if commands:
            messages.append((commands, cause, record.trace()))
            positions.append(n)
    for n, posted in zip(positions, container.app().post_batch(messages) if messages else [], strict=True):
        outcomes[n] = posted
    for record, outcome in zip(records, outcomes, strict=True):
        if not isinstance(outcome, Exception):
            record.run(functools.partial(_log_posted, outcome))
    return outcomes


def _log_posted(posted: list[JournalEntryPosted]) -> None:
    if not posted:
        logger.info("nothing to post (failed payment or refund, or already posted)")
        return
    metrics.add_metric(name="JournalEntriesPosted", unit=MetricUnit.Count, value=len(posted))
    for entry in posted:
        logger.info("journal entry posted", extra={"entry_type": entry.entry_type, "postings": len(entry.postings)})


handler = queue_batch_entry(_post, logger=logger, metrics=metrics)
