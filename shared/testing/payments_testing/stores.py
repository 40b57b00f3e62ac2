"""Both event-store adapters over the same tables, for the contract suites that every port runs on each:
(the store, a client for DynamoDB tables or None for the in-memory store)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from payments_shared.eventstore import EventStore
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, table_definition
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import aws_client, fake_credentials

ADAPTERS = ["memory", "dynamodb"]


@contextmanager
def event_store(adapter: str, table: str, *read_models: dict[str, Any]) -> Iterator[tuple[EventStore, Any]]:
    """read_models: CreateTable arguments of the read-model tables the port under test writes."""
    if adapter == "memory":
        yield InMemoryEventStore(), None
        return
    fake_credentials()
    with mock_aws():
        client = aws_client("dynamodb")
        client.create_table(**table_definition(table))
        for definition in read_models:
            client.create_table(**definition)
        yield DynamoDBEventStore(client, table), client


def table(name: str, *keys: str) -> dict[str, Any]:
    """A read-model table's CreateTable arguments: string keys, the first the partition key."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": k, "KeyType": "HASH" if i == 0 else "RANGE"} for i, k in enumerate(keys)],
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in keys],
    }
