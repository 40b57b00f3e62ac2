from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from fake_psp import FakePsp
from finalizer_testdata import CARDS, HANG_S, stripe_on

from finalizer.adapters.memory_results import InMemoryPaymentResults
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.fixtures import real_runtime, spans  # noqa: F401 - fixtures


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    server = FakePsp(hang_seconds=HANG_S, raw_card_access=True).start()  # the raw card path's tests
    yield server
    server.stop()


@pytest.fixture
def runtime(psp: FakePsp) -> Iterator[ModuleType]:
    """The real runtime (the container the entry points share): its PSP adapter on the fake PSP, its card
    opener on the tests' cipher."""
    with real_runtime("finalizer") as module:
        module.container.psp.override(stripe_on(psp))
        module.container.card_cipher.override(CARDS)
        yield module


@pytest.fixture
def results(runtime: ModuleType) -> InMemoryPaymentResults:
    """The results rows the in-memory event store writes (BreakingTheBank, as an operator reads it)."""
    rows = InMemoryPaymentResults()
    runtime.container.results.override(rows)
    return rows


@pytest.fixture
def store(runtime: ModuleType, results: InMemoryPaymentResults) -> InMemoryEventStore:
    memory = InMemoryEventStore()
    runtime.container.event_store.override(memory)
    return memory
