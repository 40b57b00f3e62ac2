from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import fake_credentials
from payments_testing.fixtures import fresh_handler
from wallet.adapters.memory_balances import InMemoryBalances


@pytest.fixture
def handler_module() -> Iterator[ModuleType]:
    fake_credentials()  # before the handler module builds its container
    from wallet import handler

    with fresh_handler(handler) as module:
        yield module


@pytest.fixture
def store(handler_module: ModuleType) -> InMemoryEventStore:
    memory = InMemoryEventStore()
    handler_module.container.event_store.override(memory)
    handler_module.container.balances.override(InMemoryBalances(memory, "WalletBalances"))
    return memory
