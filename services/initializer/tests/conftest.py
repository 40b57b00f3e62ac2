from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from initializer_testdata import EVENT_STORE_TABLE, ORDERS_TABLE, TODAY, in_memory_adapters
from moto import mock_aws

from initializer.adapters.dynamodb_orders import DynamoDBPaymentOrders
from initializer.adapters.memory_orders import InMemoryPaymentOrders
from initializer.domain.order import EVENT_SCHEMAS
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, table_definition
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import SerializedClient, aws_client, fake_credentials
from payments_testing.cards import LocalCardVault
from payments_testing.fixtures import real_runtime, spans  # noqa: F401 - fixtures
from payments_testing.racing import RacingWrites
from payments_testing.stores import table
from payments_testing.strict_dynamodb import StrictTransactions


@pytest.fixture
def runtime() -> Iterator[ModuleType]:
    """initializer.runtime (the container every entry point shares), clean for each test."""
    with real_runtime("initializer") as module:
        yield module


@pytest.fixture
def in_memory(runtime: ModuleType) -> InMemoryEventStore:
    """The real entry points on in-memory adapters (no AWS at all): their event store."""
    return in_memory_adapters(runtime.container)


@pytest.fixture
def orders(runtime: ModuleType, in_memory: InMemoryEventStore) -> InMemoryPaymentOrders:
    """The in-memory orders read model the real entry points write (with `in_memory`)."""
    read_model: InMemoryPaymentOrders = runtime.container.orders()
    return read_model


@pytest.fixture
def initializer_tables() -> Iterator[tuple[Any, str]]:
    """The initializer's tables on moto, under the container's default names: its event store and the orders'
    read model. Yields a dynamodb client and the event store's stream ARN (the outbox relay reads it)."""
    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        stream_arn = dynamodb.create_table(**table_definition(EVENT_STORE_TABLE))["TableDescription"]["LatestStreamArn"]
        dynamodb.create_table(**table(ORDERS_TABLE, "payment_order_id"))
        yield dynamodb, stream_arn


@pytest.fixture
def racing(runtime: ModuleType, initializer_tables: tuple[Any, str]) -> Iterator[dict[str, Any]]:
    """The real entry points on the strict DynamoDB (moto + StrictTransactions), their writes racing as
    payments_testing.racing forces once armed: the client, the store, the strict backend and the racer."""
    dynamodb, _ = initializer_tables
    strict = StrictTransactions().install()
    racer = RacingWrites(SerializedClient(dynamodb))  # moto's backend is not thread-safe: see SerializedClient
    store = DynamoDBEventStore(racer, EVENT_STORE_TABLE, EVENT_SCHEMAS)
    container = runtime.container
    container.event_store.override(store)
    container.orders.override(DynamoDBPaymentOrders(racer, ORDERS_TABLE))
    container.vault.override(LocalCardVault())
    container.clock.override(lambda: TODAY)
    try:
        yield {"dynamodb": dynamodb, "store": store, "strict": strict, "racing": racer}
    finally:
        strict.uninstall()
