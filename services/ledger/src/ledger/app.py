"""Use cases: post a captured payment to the journal (once), keep the account totals, the trial balance.

A posting writes only its own journal stream (`journal-<payment>`): postings for different payments share
no item, so DynamoDB never cancels one because of another. The account totals (every posting touches
`psp_clearing`) are a projection of the journal, kept by a consumer of the ledger's DynamoDB stream outside
the posting transaction; each entry is added once, guarded by a marker that commits with its increments.
"""

from __future__ import annotations

from ledger.domain.journal import (
    EVENTS,
    JOURNAL_ENTRY_POSTED,
    FeeSchedule,
    JournalEntry,
    JournalEntryPosted,
    TrialBalance,
    capture_entry,
)
from ledger.ports import AccountTotals
from ledger.read_model import totals_marker
from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import (
    ConcurrencyConflict,
    DuplicateRecord,
    EventStore,
    NewEvent,
    StoredEvent,
    StoreUnavailable,
)
from payments_shared.observability.propagation import current_trace_context
from payments_shared.retry import DEFAULT_RETRY, RetryPolicy, retry


class LedgerApp:
    def __init__(
        self,
        store: EventStore,
        totals: AccountTotals,
        fees: FeeSchedule,
        retry_policy: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._retry_policy = retry_policy
        self._store = store
        self._totals = totals
        self._fees = fees

    def post_payment(self, envelope: EventEnvelope) -> JournalEntry | None:
        """Post a SUCCESS payment's capture entry; FAILED posts nothing. Idempotent per payment.

        The entry is the first event of the payment's journal stream: a redelivered event loses the version
        race and changes nothing.
        """
        data = PaymentStatusUpdatedData.model_validate(envelope.data)
        amount = data.money()
        if data.status != "SUCCESS":
            return None
        entry = capture_entry(data.merchant_id, amount, self._fees)
        posted = entry.posted(str(data.payment_order_id), str(envelope.event_id))
        event = NewEvent(
            posted.event_type,
            posted.data,
            envelope.correlation_id,
            str(envelope.event_id),
            trace=current_trace_context(),
        )
        stream = f"journal-{data.payment_order_id}"
        try:
            retry(lambda _: self._store.append(stream, 0, [event]), on=(StoreUnavailable,), policy=self._retry_policy)
        except ConcurrencyConflict:
            return None  # already posted by an earlier delivery
        return entry

    def add_to_totals(self, posted: StoredEvent) -> bool:
        """Add a posted entry to its accounts' running totals, once; False when it was already added."""
        entry = EVENTS.decode(posted.event_type, posted.data) if posted.event_type == JOURNAL_ENTRY_POSTED else None
        if not isinstance(entry, JournalEntryPosted):
            return False
        marker = self._store.claim(totals_marker(posted.stream_id))
        increments = self._totals.entry_added(entry.postings)
        try:
            # Projections of other stream shards may be adding to the same accounts right now.
            retry(
                lambda _: self._store.append(totals_marker(posted.stream_id), 0, [], [marker, *increments]),
                on=(StoreUnavailable,),
                policy=self._retry_policy,
            )
        except DuplicateRecord:
            return False
        return True

    def trial_balance(self) -> TrialBalance:
        return TrialBalance.of(self._totals.all())
