from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from initializer_testdata import TODAY

from initializer.adapters.memory_read_model import InMemoryOrderReadModel
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.cards import LocalCardVault
from payments_testing.fixtures import real_handler, spans  # noqa: F401 - fixtures


@pytest.fixture
def handler_module() -> Iterator[ModuleType]:
    with real_handler("initializer") as module:
        yield module


@pytest.fixture
def in_memory(handler_module: ModuleType) -> InMemoryEventStore:
    """The real handler with in-memory adapters (no AWS at all)."""
    store = InMemoryEventStore()
    container = handler_module.container
    container.event_store.override(store)
    container.orders.override(InMemoryOrderReadModel(store, "ShowMeTheMoney"))
    container.vault.override(LocalCardVault())
    container.clock.override(lambda: TODAY)
    return store
