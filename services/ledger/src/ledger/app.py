"""Use cases: post a captured payment to the journal (once), and the trial balance."""

from __future__ import annotations

from ledger.domain.journal import FeeSchedule, JournalEntry, Side, TrialBalance, capture_entry
from ledger.ports import AccountTotals
from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import ConcurrencyConflict, EventStore, IncrementRecord, NewEvent
from payments_shared.observability.propagation import current_trace_context

JOURNAL_ENTRY_POSTED = "JournalEntryPosted"


class LedgerApp:
    def __init__(self, store: EventStore, totals: AccountTotals, fees: FeeSchedule, accounts_table: str) -> None:
        self._store = store
        self._totals = totals
        self._fees = fees
        self._accounts_table = accounts_table

    def post_payment(self, envelope: EventEnvelope) -> JournalEntry | None:
        """Post a SUCCESS payment's capture entry; FAILED posts nothing. Idempotent per payment.

        The entry is the first event of the payment's journal stream, and account totals are atomic
        increments in the same transaction: a redelivered event loses the version race and changes
        nothing, and no hot account row is ever read-modify-written.
        """
        data = PaymentStatusUpdatedData.model_validate(envelope.data)
        amount = data.money()
        if data.status != "SUCCESS":
            return None
        entry = capture_entry(data.merchant_id, amount, self._fees)
        event = NewEvent(
            event_type=JOURNAL_ENTRY_POSTED,
            data={
                "payment_order_id": str(data.payment_order_id),
                "source_event_id": str(envelope.event_id),
                "postings": [
                    {"account": p.account, "side": p.side.value, "amount_minor": p.amount.minor,
                     "currency": p.amount.currency}
                    for p in entry.postings
                ],
            },  # fmt: skip
            correlation_id=envelope.correlation_id,
            causation_id=str(envelope.event_id),
            trace=current_trace_context(),
        )
        increments = [
            IncrementRecord(
                self._accounts_table,
                {"account": p.account, "currency": p.amount.currency},
                {"debits_minor": p.amount.minor if p.side == Side.DEBIT else 0,
                 "credits_minor": p.amount.minor if p.side == Side.CREDIT else 0},
            )
            for p in entry.postings
        ]  # fmt: skip
        try:
            self._store.append(f"journal-{data.payment_order_id}", 0, [event], increments)
        except ConcurrencyConflict:
            return None  # already posted by an earlier delivery
        return entry

    def trial_balance(self) -> TrialBalance:
        return TrialBalance.of(self._totals.all())
