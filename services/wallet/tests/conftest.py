from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.fixtures import real_runtime
from wallet.adapters.memory_balances import InMemoryBalances


@pytest.fixture
def runtime() -> Iterator[ModuleType]:
    with real_runtime("wallet") as module:
        yield module


@pytest.fixture
def store(runtime: ModuleType) -> InMemoryEventStore:
    memory = InMemoryEventStore()
    runtime.container.event_store.override(memory)
    runtime.container.balances.override(InMemoryBalances("WalletBalances"))
    return memory
