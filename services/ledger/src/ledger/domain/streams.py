"""The ledger's names in its event store, defined once (the app, the rows and tools/ops use them).

Each business event's journal entry is the only event of its own stream, written at version 0 without a read:
  capture          `journal-<payment order id>` (the name entries had when a payment had one: old captures and
                   their redeliveries still find their stream taken)
  psp fee          `journal-<payment order id>#psp-fee` (older payments': since 2026-12-06 a capture carries the
                   PSP's fee and no psp_fee entry is written; the name stays, old journals hold it)
  refund           `journal-<payment order id>#refund-<refund id>`
  refund reversal  `journal-<payment order id>#refund-reversal-<refund id>`
  dispute          `journal-<payment order id>#dispute-<dispute id>`
  dispute won      `journal-<payment order id>#dispute-won-<dispute id>`
  payout           `journal-payout-<payout id>` (no payment: the payout's own; its PostEntry names no order)
  psp payout       `journal-psp-payout-<Stripe's po_ id>`, its failure `journal-psp-payout-failure-<po_ id>` (the
                   PSP's own payouts to our bank: no payment, no merchant)
Why a stream per business event rather than one per payment with several entries: a posting then needs no read
(the stream existing is the answer "already posted", and the ledger's role may not Query its store) and two
entries never share an item, so a refund racing its payment's capture is never cancelled by it. The payment
prefixes every name, so an operator finds a payment's entries under one prefix.
An entry counts in the account totals once the projection has claimed `totals#<journal stream>`.
"""

from __future__ import annotations

from ledger.domain.journal import EntryType

JOURNAL_PREFIX = "journal-"


def journal_stream(payment_order_id: str) -> str:
    """The payment's capture entry's stream (the prefix of its refunds' streams)."""
    return f"{JOURNAL_PREFIX}{payment_order_id}"


def entry_stream(entry_type: EntryType, payment_order_id: str, entry_key: str) -> str:
    """The stream of the one entry a business event books."""
    if entry_type == EntryType.CAPTURE:
        return journal_stream(payment_order_id)
    if entry_type == EntryType.PAYOUT:
        return f"{JOURNAL_PREFIX}payout-{entry_key}"
    if entry_type == EntryType.PSP_FEE:
        return f"{journal_stream(payment_order_id)}#psp-fee"
    if entry_type == EntryType.PSP_PAYOUT:
        return f"{JOURNAL_PREFIX}psp-payout-{entry_key}"
    if entry_type == EntryType.PSP_PAYOUT_FAILURE:
        return f"{JOURNAL_PREFIX}psp-payout-failure-{entry_key}"
    if entry_type == EntryType.REFUND:
        return f"{journal_stream(payment_order_id)}#refund-{entry_key}"
    if entry_type == EntryType.DISPUTE:
        return f"{journal_stream(payment_order_id)}#dispute-{entry_key}"
    if entry_type == EntryType.DISPUTE_WON:
        return f"{journal_stream(payment_order_id)}#dispute-won-{entry_key}"
    return f"{journal_stream(payment_order_id)}#refund-reversal-{entry_key}"


def totals_marker(journal_stream: str) -> str:
    """Claimed with an entry's increments to the account totals: an entry is added once, however often the
    stream delivers it."""
    return f"totals#{journal_stream}"
