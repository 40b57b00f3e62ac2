from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.fixtures import real_handler
from wallet.adapters.memory_balances import InMemoryBalances


@pytest.fixture
def handler_module() -> Iterator[ModuleType]:
    with real_handler("wallet") as module:
        yield module


@pytest.fixture
def store(handler_module: ModuleType) -> InMemoryEventStore:
    memory = InMemoryEventStore()
    handler_module.container.event_store.override(memory)
    handler_module.container.balances.override(InMemoryBalances("WalletBalances"))
    return memory
