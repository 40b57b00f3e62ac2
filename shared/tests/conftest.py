from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from payments_testing.aws import fake_credentials
from payments_testing.spans import span_exporter


@pytest.fixture
def aws() -> Iterator[None]:
    fake_credentials()
    with mock_aws():
        yield


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = span_exporter()
    exporter.clear()
    yield exporter
    exporter.clear()
