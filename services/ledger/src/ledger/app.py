"""Use cases: post a business event's entry to its journal (once), keep the account totals, the trial balance.

A posting writes only its own journal stream (one per business event, ledger.domain.streams): postings share no
item, so DynamoDB never cancels one because of another. The account totals (every posting touches
`psp_clearing`) are a projection of the journal, kept by a consumer of the ledger's DynamoDB stream outside
the posting transaction; each entry is added once, guarded by a marker that commits with its increments. A
stream batch's entries are added in one write: their markers and one increment per account row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

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
from payments_shared.events import TraceContext
from payments_shared.eventstore import EventStore, StoredEvent, ViewChange
from payments_shared.eventstore.port import MAX_ITEMS_PER_APPEND
from payments_shared.eventstore.repository import Cause, Repository, record_each_once
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

    def post_each(self, commands: Sequence[PostEntry], cause: Cause) -> list[JournalEntryPosted]:
        """The entries one business message asks for, each on its own journal stream, written in one transaction
        without a read; those posted before (a redelivery) are left out and the rest written. The entries posted
        now."""
        streams = [(entry_stream(c.entry_type, c.payment_order_id, c.entry_key), c) for c in commands]
        decisions = self._journals.start_each(streams, cause)
        return [e for decision in decisions for e in decision.events if isinstance(e, JournalEntryPosted)]

    def post_batch(
        self, messages: Sequence[tuple[Sequence[PostEntry], Cause, TraceContext]]
    ) -> list[list[JournalEntryPosted] | Exception]:
        """post_each for every message of a queue batch, in one transaction (split only at DynamoDB's 100 items):
        per message, the entries posted now, or the exception that left it unposted (only its own). An entry posted
        before, or by an earlier message of the batch, is left out and the rest written again without it."""
        streams = [
            ([(entry_stream(c.entry_type, c.payment_order_id, c.entry_key), c) for c in commands], cause, trace)
            for commands, cause, trace in messages
        ]
        return [
            outcome
            if isinstance(outcome, Exception)
            else [e for decision in outcome for e in decision.events if isinstance(e, JournalEntryPosted)]
            for outcome in self._journals.start_batch(streams)
        ]

    def add_to_totals(self, posted: StoredEvent) -> bool:
        """Add a posted entry to its accounts' running totals, once; False when it was already added (or the
        event is no entry)."""
        return bool(self.add_batch_to_totals([posted]))

    def add_batch_to_totals(self, posted: Sequence[StoredEvent]) -> list[str]:
        """Add a stream batch's posted entries to their accounts' running totals in one write: each entry's
        marker and one increment per account and currency row for them all (not one write per entry: the
        totals rows are the hottest items there are). Each entry counts once: those added before (a batch
        delivered again, whole or in part) are left out. Returns the journal streams added now."""
        entries = dict(_entries(posted))
        if not entries:
            return []
        markers = {totals_marker(stream): stream for stream in entries}

        def changes(pending: Sequence[str]) -> Sequence[ViewChange]:
            return self._totals.entries_added([entries[markers[marker]] for marker in pending])

        # Projections of other stream shards may be adding to the same rows right now: record_each_once retries.
        added = record_each_once(self._store, list(markers), changes, self._retry_policy)
        return [markers[marker] for marker in added]

    @staticmethod
    def totals_fit(posted: Sequence[StoredEvent]) -> bool:
        """Whether one write can add these entries: a marker per entry and a row per account and currency,
        within a transaction's items."""
        entries = dict(_entries(posted))
        rows = {(p["account"], p["currency"]) for entry in entries.values() for p in entry.postings}
        return len(entries) + len(rows) <= MAX_ITEMS_PER_APPEND

    def trial_balance(self) -> TrialBalance:
        return TrialBalance.of(self._totals.all())


def _entries(posted: Iterable[StoredEvent]) -> Iterator[tuple[str, JournalEntryPosted]]:
    """(journal stream, entry) for each posted entry among the events, in today's shape."""
    for event in posted:
        if event.event_type != JOURNAL_ENTRY_POSTED:
            continue
        # The stream's record carries the shape it was written in: read it in today's.
        entry = EVENTS.decode(event.event_type, EVENT_SCHEMAS.event(event).data)
        if isinstance(entry, JournalEntryPosted):
            yield event.stream_id, entry
