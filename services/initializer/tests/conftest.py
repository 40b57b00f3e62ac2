from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from initializer_testdata import TODAY
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from initializer.adapters.local_vault import LocalCardVault
from initializer.adapters.memory_read_model import InMemoryOrderReadModel
from payments_shared.aws_clients import client
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import fake_credentials
from payments_testing.spans import span_exporter


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = span_exporter()
    exporter.clear()
    yield exporter
    exporter.clear()


@pytest.fixture
def handler_module() -> Iterator[ModuleType]:
    fake_credentials()
    from initializer import handler

    handler.container.reset_singletons()
    client.cache_clear()
    yield handler
    handler.container.reset_singletons()
    handler.container.unwire()
    for provider in (handler.container.event_store, handler.container.orders, handler.container.vault,
                     handler.container.clock, handler.container.events):  # fmt: skip
        provider.reset_override()
    client.cache_clear()


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
