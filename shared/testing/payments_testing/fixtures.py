"""Fixtures every service's tests share. A conftest imports the ones it uses by name."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest
from dependency_injector import providers
from hypothesis import settings
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from payments_shared import aws_clients
from payments_testing.aws import fake_credentials
from payments_testing.http import TEST_CALLERS
from payments_testing.spans import span_exporter

# Hypothesis fails an example slower than 200 ms: timing luck on a loaded CI machine (and the first example also
# pays hypothesis' start-up). Every test process that takes its fixtures from here runs properties without it.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = span_exporter()
    exporter.clear()
    yield exporter
    exporter.clear()


@contextmanager
def real_runtime(service: str) -> Iterator[ModuleType]:
    """`<service>.runtime` (the container its entry points share), imported with fake AWS credentials, with a
    clean container (fresh_runtime)."""
    fake_credentials()
    with fresh_runtime(importlib.import_module(f"{service}.runtime")) as module:
        yield module


@contextmanager
def fresh_runtime(module: ModuleType) -> Iterator[ModuleType]:
    """A service's runtime module with a clean container: no cached clients, no overrides left behind."""
    module.container.reset_singletons()
    aws_clients.reset()
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
        aws_clients.reset()
