"""Account totals in memory (tests, benchmarks, property tests): rows the in-memory event store writes in the
projection's transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ledger.domain.journal import AccountBalance, JournalEntryPosted
from ledger.rows import merged_increments
from payments_shared.eventstore import ViewChange
from payments_shared.eventstore.memory import InMemoryRows


class InMemoryAccountTotals:
    def __init__(self, table_name: str = "LedgerAccounts") -> None:
        self.rows = InMemoryRows(table_name)

    def entries_added(self, entries: Sequence[JournalEntryPosted]) -> list[ViewChange]:
        return [self.rows.add(key, deltas) for key, deltas in merged_increments(e.postings for e in entries)]

    def all(self) -> Iterator[AccountBalance]:
        for row in self.rows.all():
            yield AccountBalance(
                row["account"], row["currency"], row.get("debits_minor", 0), row.get("credits_minor", 0)
            )
