from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from initializer_testdata import in_memory_adapters

from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.fixtures import real_handler, spans  # noqa: F401 - fixtures


@pytest.fixture
def handler_module() -> Iterator[ModuleType]:
    with real_handler("initializer") as module:
        yield module


@pytest.fixture
def in_memory(handler_module: ModuleType) -> InMemoryEventStore:
    """The real handler with in-memory adapters (no AWS at all)."""
    return in_memory_adapters(handler_module.container)
