from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from dependency_injector import providers
from moto import mock_aws

from notifier.adapters.sqs_deliveries import SqsDeliveries
from payments_testing.aws import aws_client, fake_credentials
from payments_testing.fixtures import real_runtime
from payments_testing.stores import table
from payments_testing.strict_dynamodb import StrictTransactions

PUBLIC = "93.184.215.14"


def public_resolver(host: str, port: int) -> list[str]:
    """Every name is public, but for the ones the tests point at private addresses."""
    return {"internal.merchant.example": ["10.1.2.3"], "rebind.example": [PUBLIC, "169.254.169.254"]}.get(
        host, [PUBLIC]
    )


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto with the notifier's tables and its deliveries queue."""
    fake_credentials()
    with mock_aws():
        dynamodb, sqs = aws_client("dynamodb"), aws_client("sqs")
        dynamodb.create_table(**table("webhook-endpoints", "merchant_id", "endpoint_id"))
        dynamodb.create_table(**table("merchant-events", "merchant_id", "event_id"))
        dynamodb.create_table(**table("webhook-deliveries", "merchant_id", "event_id#endpoint_id"))
        queue_url = sqs.create_queue(QueueName="notifier-deliveries")["QueueUrl"]
        yield {"dynamodb": dynamodb, "sqs": sqs, "queue_url": queue_url}


@pytest.fixture
def runtime(aws: dict[str, Any]) -> Iterator[ModuleType]:
    with real_runtime("notifier") as module:
        module.container.deliveries.override(SqsDeliveries(aws["sqs"], aws["queue_url"]))
        module.container.resolver.override(providers.Object(public_resolver))
        yield module


@pytest.fixture
def strict(aws: dict[str, Any]) -> Iterator[StrictTransactions]:
    """moto's transactions as strict as DynamoDB's, able to refuse the next ones (cancel_next, cancel_where)."""
    transactions = StrictTransactions().install()
    try:
        yield transactions
    finally:
        transactions.uninstall()
