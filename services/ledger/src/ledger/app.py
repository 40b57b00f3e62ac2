"""Use cases: post a business event's entry to its journal (once), keep the account totals, the trial balance.

A posting writes only its own journal stream (one per business event, ledger.domain.streams): postings share no
item, so DynamoDB never cancels one because of another. The account totals (every posting touches
`psp_clearing`) are a projection of the journal, kept by a consumer of the ledger's DynamoDB stream outside
the posting transaction; each entry is added once, guarded by a marker that commits with its increments.
"""

from __future__ import annotations

from ledger.domain.journal import (
    EVENT_SCHEMAS,
    EVENTS,
    JOURNAL_ENTRY_POSTED,
    Journal,
    JournalEntryPosted,
    PostEntry,
    TrialBalance,
    journal_decider,
)
from ledger.domain.streams import entry_stream, totals_marker
from ledger.ports import AccountTotals
from payments_shared.eventstore import EventStore, StoredEvent
from payments_shared.eventstore.repository import Cause, Repository, record_once
from payments_shared.fees import FeeSchedule
from payments_shared.retry import DEFAULT_RETRY, RetryPolicy


class LedgerApp:
    def __init__(
        self,
        store: EventStore,
        totals: AccountTotals,
        fees: FeeSchedule,
        retry_policy: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._journals: Repository[Journal, PostEntry] = Repository(
            store, journal_decider(fees), retry_policy=retry_policy
        )
        self._store = store
        self._totals = totals
        self._retry_policy = retry_policy

    def post(self, command: PostEntry, cause: Cause) -> JournalEntryPosted | None:
        """The entry posted for the business event; None when it was posted already.

        The entry is the only event of the business event's journal stream, written without a read: a
        redelivered event finds the stream taken and changes nothing, without reading it (the ledger's role may
        not Query its store).
        """
        stream = entry_stream(command.entry_type, command.payment_order_id, command.entry_key)
        decision = self._journals.handle(stream, command, cause, new_stream=True, one_decision=True)
        return next((event for event in decision.events if isinstance(event, JournalEntryPosted)), None)

    def add_to_totals(self, posted: StoredEvent) -> bool:
        """Add a posted entry to its accounts' running totals, once; False when it was already added (or the
        event is no entry)."""
        if posted.event_type != JOURNAL_ENTRY_POSTED:
            return False
        # The stream's record carries the shape it was written in: read it in today's.
        entry = EVENTS.decode(posted.event_type, EVENT_SCHEMAS.event(posted).data)
        if not isinstance(entry, JournalEntryPosted):
            return False
        # Projections of other stream shards may be adding to the same accounts right now: record_once retries.
        changes = self._totals.entry_added(entry)
        return record_once(self._store, changes, totals_marker(posted.stream_id), self._retry_policy)

    def trial_balance(self) -> TrialBalance:
        return TrialBalance.of(self._totals.all())
