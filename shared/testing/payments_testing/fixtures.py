"""Fixtures every service's tests share. A conftest imports the ones it uses by name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest
from dependency_injector import providers
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from payments_shared.aws_clients import client
from payments_testing.http import TEST_CALLERS
from payments_testing.spans import span_exporter


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = span_exporter()
    exporter.clear()
    yield exporter
    exporter.clear()


@contextmanager
def fresh_handler(module: ModuleType) -> Iterator[ModuleType]:
    """A service's real handler module with a clean container: no cached clients, no overrides left behind."""
    module.container.reset_singletons()
    client.cache_clear()
    if "callers" in module.container.providers:  # HTTP entry points: the test principals (payments_testing.http)
        module.container.callers.override(TEST_CALLERS)
    try:
        yield module
    finally:
        for provider in module.container.providers.values():
            # Configuration keeps its values as an override: leave it alone.
            if not isinstance(provider, providers.Configuration):
                provider.reset_override()
        module.container.reset_singletons()
        client.cache_clear()
