from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.fixtures import real_handler


@pytest.fixture
def handler_module() -> Iterator[ModuleType]:
    with real_handler("ledger") as module:
        yield module


@pytest.fixture
def store(handler_module: ModuleType) -> InMemoryEventStore:
    memory = InMemoryEventStore()
    handler_module.container.event_store.override(memory)
    handler_module.container.totals.override(InMemoryAccountTotals(memory, "LedgerAccounts"))
    # The in-memory store plays the DynamoDB stream that feeds the totals projection.
    memory.subscribe(lambda posted: handler_module.container.app().add_to_totals(posted))
    return memory
