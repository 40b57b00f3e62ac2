"""Account totals kept by the in-memory event store (tests, benchmarks, property tests)."""

from __future__ import annotations

from collections.abc import Iterator

from ledger.domain.journal import AccountBalance
from ledger.read_model import AccountRows
from payments_shared.eventstore.memory import InMemoryEventStore


class InMemoryAccountTotals(AccountRows):
    def __init__(self, store: InMemoryEventStore, table_name: str) -> None:
        super().__init__(table_name)  # self._table
        self._store = store

    def all(self) -> Iterator[AccountBalance]:
        for row in self._store.records(self._table):
            yield AccountBalance(
                row["account"], row["currency"], row.get("debits_minor", 0), row.get("credits_minor", 0)
            )
