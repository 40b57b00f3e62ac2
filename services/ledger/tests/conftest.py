from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from payments_shared.aws_clients import client
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import fake_credentials


@pytest.fixture
def handler_module() -> Iterator[ModuleType]:
    fake_credentials()
    from ledger import handler

    handler.container.reset_singletons()
    client.cache_clear()
    yield handler
    for provider in (handler.container.event_store, handler.container.totals, handler.container.fees):
        provider.reset_override()
    handler.container.reset_singletons()
    client.cache_clear()


@pytest.fixture
def store(handler_module: ModuleType) -> InMemoryEventStore:
    memory = InMemoryEventStore()
    handler_module.container.event_store.override(memory)
    handler_module.container.totals.override(InMemoryAccountTotals(memory, "LedgerAccounts"))
    return memory
