from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from moto import mock_aws

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.domain.journal import EVENT_SCHEMAS
from payments_shared.eventstore.dynamodb import table_definition
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import aws_client, fake_credentials
from payments_testing.fixtures import real_runtime
from payments_testing.stores import table
from payments_testing.strict_dynamodb import StrictTransactions

EVENT_STORE_TABLE, ACCOUNTS_TABLE = "ledger-events", "LedgerAccounts"  # the container's defaults


@pytest.fixture
def runtime() -> Iterator[ModuleType]:
    with real_runtime("ledger") as module:
        yield module


@pytest.fixture
def store(runtime: ModuleType) -> InMemoryEventStore:
    memory = InMemoryEventStore(schemas=EVENT_SCHEMAS)  # as the container's store
    runtime.container.event_store.override(memory)
    runtime.container.totals.override(InMemoryAccountTotals(ACCOUNTS_TABLE))
    # The in-memory store plays the DynamoDB stream that feeds the totals projection.
    memory.subscribe(lambda posted: runtime.container.app().add_to_totals(posted))
    return memory


@pytest.fixture
def ledger_tables() -> Iterator[tuple[Any, str]]:
    """The ledger's tables on moto, under the container's default names: its event store and the account totals.
    Yields a dynamodb client and the event store's stream ARN (the stream feeds the totals projection)."""
    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        stream_arn = dynamodb.create_table(**table_definition(EVENT_STORE_TABLE))["TableDescription"]["LatestStreamArn"]
        dynamodb.create_table(**table(ACCOUNTS_TABLE, "account", "currency"))
        yield dynamodb, stream_arn


@pytest.fixture
def strict() -> Iterator[StrictTransactions]:
    """moto's DynamoDB as strict as the real one about transactions (TransactionConflict, injected refusals)."""
    transactions = StrictTransactions().install()
    try:
        yield transactions
    finally:
        transactions.uninstall()
