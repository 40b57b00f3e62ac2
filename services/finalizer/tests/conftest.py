from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from fake_psp import FakePsp
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from finalizer.adapters.psp_http import HttpPsp
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
def psp() -> Iterator[FakePsp]:
    server = FakePsp(hang_seconds=1.0).start()
    yield server
    server.stop()


@pytest.fixture
def handler_module(psp: FakePsp) -> Iterator[ModuleType]:
    """The real handler module, its PSP adapter pointed at the fake PSP with short timeouts."""
    fake_credentials()
    from finalizer import handler

    handler.container.reset_singletons()
    client.cache_clear()
    handler.container.psp.override(HttpPsp(psp.url, read_timeout_s=0.3, base_delay_s=0.01))
    yield handler
    for provider in (handler.container.psp, handler.container.event_store):
        provider.reset_override()
    handler.container.reset_singletons()
    client.cache_clear()


@pytest.fixture
def store(handler_module: ModuleType) -> InMemoryEventStore:
    memory = InMemoryEventStore()
    handler_module.container.event_store.override(memory)
    return memory
