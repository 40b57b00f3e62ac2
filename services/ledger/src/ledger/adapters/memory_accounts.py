"""Account totals kept by the in-memory event store (tests, benchmarks, property tests)."""

from __future__ import annotations

from collections.abc import Iterator

from ledger.domain.journal import AccountBalance
from payments_shared.eventstore.memory import InMemoryEventStore


class InMemoryAccountTotals:
    def __init__(self, store: InMemoryEventStore, table_name: str) -> None:
        self._store = store
        self._table = table_name

    def all(self) -> Iterator[AccountBalance]:
        for row in self._store.records(self._table):
            yield AccountBalance(row["account"], row["currency"], row.get("debits_minor", 0),
                                 row.get("credits_minor", 0))  # fmt: skip
