from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import fake_credentials
from payments_testing.fixtures import fresh_handler


@pytest.fixture
def handler_module() -> Iterator[ModuleType]:
    fake_credentials()  # before the handler module builds its container
    from ledger import handler

    with fresh_handler(handler) as module:
        yield module


@pytest.fixture
def store(handler_module: ModuleType) -> InMemoryEventStore:
    memory = InMemoryEventStore()
    handler_module.container.event_store.override(memory)
    handler_module.container.totals.override(InMemoryAccountTotals(memory, "LedgerAccounts"))
    # The in-memory store plays the DynamoDB stream that feeds the totals projection.
    memory.subscribe(lambda posted: handler_module.container.app().add_to_totals(posted))
    return memory
